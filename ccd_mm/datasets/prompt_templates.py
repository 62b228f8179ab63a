"""The one check of prompt templates, for the dataset that carries them and
the teacher that formats them."""
from string import Formatter
from typing import Sequence, Tuple

RULE = ("a template needs exactly one '{}' where the class name goes, and "
        "'{{' or '}}' for a literal brace")


def _class_name_fields(template: str) -> Tuple[int, list]:
    """(number of ``{}`` fields, the other replacement fields) of a
    ``str.format`` template; ValueError for unmatched braces."""
    fields = [
        field for _, field, _, _ in Formatter().parse(template)
        if field is not None
    ]
    others = [f'{{{field}}}' for field in fields if field != '']
    return len(fields) - len(others), others


def checked_prompt_templates(templates: Sequence[str]) -> Tuple[str, ...]:
    """Prompt templates refused unless each formats one class name.

    ``'a photo.'`` would give every class the same prompt (every label
    1 / C) and ``'a {} and a {}.'`` fail with a bare IndexError only when
    the teacher formats it; both are refused here, when the dataset or the
    teacher is built.

    Args:
        templates (Sequence[str]): ``str.format`` templates, e.g.
            ``('a photo of the {}.', )``.

    Returns:
        tuple[str]: the templates.

    Raises:
        ValueError: naming the first unusable template and what it holds,
            or for no templates or a single string in place of a list.
    """
    if isinstance(templates, str):
        raise ValueError(
            f'prompt templates must be a list of templates, got the string '
            f'{templates!r}: write [{templates!r}]')
    templates = tuple(templates)
    if not templates:
        raise ValueError(f'no prompt templates: give at least one; {RULE}')
    for template in templates:
        if not isinstance(template, str):
            raise ValueError(f'prompt template {template!r} is not a string; '
                             f'{RULE}')
        try:
            count, others = _class_name_fields(template)
        except ValueError as error:
            raise ValueError(f'prompt template {template!r} is no str.format '
                             f'template ({error}); {RULE}') from None
        if count != 1 or others:
            other_text = f' and {", ".join(others)}' if others else ''
            raise ValueError(f"prompt template {template!r} has {count} '{{}}'"
                             f'{other_text}; {RULE}')
    return templates
