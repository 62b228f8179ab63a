from typing import Mapping, Optional


def run_teacher(hook_teacher: Optional[dict], cfg: Mapping) -> dict:
    """The teacher config a label hook uses: its own ``teacher`` argument
    when given, else the run config's top-level ``teacher`` field.

    The method configs define ``teacher`` once at the top level and leave
    the hooks' argument unset, so ``--cfg-options teacher.pretrained=...``
    changes the teacher of every hook (a hook holding a copy of the dict
    would keep the old value).
    """
    if hook_teacher is not None:
        return hook_teacher
    teacher = cfg.get('teacher')
    if teacher is None:
        raise ValueError(
            'no teacher: set a top-level `teacher = dict(type="CLIPTeacher", '
            '...)` in the config or pass `teacher=` to the hook')
    return dict(teacher)
