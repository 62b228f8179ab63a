import pytest
from mmengine.config import Config

from ccd_mm.engine.teacher_config import resolve_teacher_config

REPO_CONFIG = 'configs/shapes/ccd_shapesml.py'


def test_hook_teacher_wins_over_the_config_teacher():
    own = dict(type='CLIPTeacher', model_name='own', pretrained='a.pt')
    cfg = dict(teacher=dict(type='CLIPTeacher', model_name='top'))
    assert resolve_teacher_config(own, cfg) is own


def test_cfg_options_on_the_top_level_teacher_reach_the_hooks():
    cfg = Config.fromfile(REPO_CONFIG)
    cfg.merge_from_dict({'teacher.pretrained': '/weights/elsewhere.pt'})
    label_hooks = [
        cfg.default_hooks.initial_labels, cfg.default_hooks.label_update
    ]
    for hook in label_hooks:
        teacher = resolve_teacher_config(hook.get('teacher'), cfg)
        assert teacher['pretrained'] == '/weights/elsewhere.pt'
        assert teacher['model_name'] == 'shapesml-clip-rn'


def test_no_teacher_anywhere_names_the_fix():
    with pytest.raises(ValueError, match='top-level `teacher = '):
        resolve_teacher_config(None, dict())


@pytest.mark.parametrize('key', ['class_names', 'templates'])
def test_prompts_in_the_teacher_are_refused(key):
    teacher = dict(type='CLIPTeacher', model_name='top', **{key: ['a']})
    for hook_teacher, cfg in ((teacher, dict()), (None,
                                                  dict(teacher=teacher))):
        with pytest.raises(ValueError, match=f"teacher sets \\['{key}'\\]"):
            resolve_teacher_config(hook_teacher, cfg)
