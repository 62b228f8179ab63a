"""Prompt templates per dataset for the CLIP teacher (docs/method.md,
section 1).

Each entry is a tuple of ``str.format`` templates with one ``{}`` for the
class name; the teacher averages the normalised text embeddings of all
templates of a class. Configs pick an entry by dataset name, e.g.
``templates=PROMPT_TEMPLATES['nus_wide']``.
"""

PROMPT_TEMPLATES = dict(
    # CCD and CDUL papers: one fixed prompt, "a photo of the [class]".
    default=('a photo of the {}.', ),
    voc=('a photo of the {}.', ),
    coco=('a photo of the {}.', ),
    # NUS-WIDE's prompts use the indefinite article (docs/method.md).
    nus_wide=('a photo of a {}.', ),
)
