"""Missing evaluation images stop a run before it starts: mmpretrain's VOC
lists an absent JPEG and would fail only at the first validation."""
from types import SimpleNamespace

import pytest
from mmpretrain.registry import DATASETS, HOOKS

from ccd_mm.engine.hooks import clip_initial_label_hook
from tests.fixtures.ccd_shapes_run import ccd_shapes_config, make_shapes_root
from tests.fixtures.runner_names import runner_from_cfg
from tests.fixtures.voc_layout import every_class_split, write_voc


def voc_runner(root, absent_images=()):
    write_voc(root, dict(test=every_class_split(100)), absent_images)
    dataset = DATASETS.build(
        dict(type='VOC', data_root=str(root), split='test', test_mode=True))
    loop = SimpleNamespace(dataloader=SimpleNamespace(dataset=dataset))
    return SimpleNamespace(val_loop=loop, test_loop=loop)


def test_missing_val_and_test_images_fail_with_count_and_paths(tmp_path):
    runner = voc_runner(tmp_path / 'VOC2007', absent_images=('000102', ))
    hook = HOOKS.build(dict(type='EvalImageCheckHook'))
    with pytest.raises(
            FileNotFoundError,
            match=r'1 of the 5 images of the validation split '
            r'\(VOC\) are missing, e.g. \[.*000102.jpg'):
        hook.before_train(runner)
    with pytest.raises(FileNotFoundError, match='of the test split'):
        hook.before_test(runner)


def test_complete_splits_pass(tmp_path):
    runner = voc_runner(tmp_path / 'VOC2007')
    hook = HOOKS.build(dict(type='EvalImageCheckHook'))
    hook.before_train(runner)
    hook.before_test(runner)


def test_check_runs_before_the_teacher_pass(tmp_path, tiny_clip_resnet,
                                            monkeypatch):
    """In a run, a validation split with a missing image stops training
    before the initial labeling, not after the teacher pass."""
    cfg = ccd_shapes_config(
        make_shapes_root(tmp_path / 'data'), tiny_clip_resnet,
        str(tmp_path / 'work'))
    cfg.default_hooks.eval_image_check = dict(type='EvalImageCheckHook')
    voc_root = tmp_path / 'VOC2007'
    write_voc(voc_root, dict(test=every_class_split(100)), ('000102', ))
    cfg.val_dataloader.dataset = dict(
        type='VOC',
        data_root=str(voc_root),
        split='test',
        test_mode=True,
        pipeline=cfg.val_dataloader.dataset.pipeline)
    monkeypatch.setattr(clip_initial_label_hook, 'label_global_views',
                        lambda *args, **kwargs: pytest.fail('teacher ran'))
    with pytest.raises(FileNotFoundError, match='000102.jpg'):
        runner_from_cfg(cfg).train()


def test_no_validation_loop_is_not_checked():
    hook = HOOKS.build(dict(type='EvalImageCheckHook'))
    hook.before_train(SimpleNamespace(val_loop=None))
