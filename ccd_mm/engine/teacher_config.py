from typing import Mapping, Optional


def resolve_teacher_config(hook_teacher: Optional[dict], cfg: Mapping) -> dict:
    """The teacher config a label hook uses: its own ``teacher`` argument
    when given, else the run config's top-level ``teacher`` field.

    The method configs define ``teacher`` once at the top level and leave
    the hooks' argument unset, so ``--cfg-options teacher.pretrained=...``
    changes the teacher of every hook (a hook holding a copy of the dict
    would keep the old value).
    """
    teacher = hook_teacher
    if teacher is None:
        if cfg.get('teacher') is None:
            raise ValueError(
                'no teacher: set a top-level `teacher = dict(type='
                '"CLIPTeacher", ...)` in the config or pass `teacher=` to '
                'the hook')
        teacher = dict(cfg['teacher'])
    # The dataset wrapper sets them (teacher_config): a value here would be
    # silently replaced.
    given = [key for key in ('class_names', 'templates') if key in teacher]
    if given:
        raise ValueError(
            f'teacher sets {given}, but the prompts come from the dataset '
            'wrapper: set class_prompts / prompt_templates of '
            'CLIPPseudoLabelDataset instead')
    return teacher
