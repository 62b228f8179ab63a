"""Missing evaluation images stop a run before it starts: mmpretrain's VOC
lists an absent JPEG and would fail only at the first validation."""
from types import SimpleNamespace

import pytest
from mmpretrain.registry import DATASETS, HOOKS
from PIL import Image

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


def ccd_run_validated_on(voc_root, tmp_path, tiny_clip_resnet, monkeypatch):
    """A CCD run on ShapesML whose validation split is the VOC split at
    ``voc_root``, and whose teacher fails the test if it runs."""
    cfg = ccd_shapes_config(
        make_shapes_root(tmp_path / 'data'), tiny_clip_resnet,
        str(tmp_path / 'work'))
    cfg.default_hooks.eval_image_check = dict(type='EvalImageCheckHook')
    cfg.val_dataloader.dataset = dict(
        type='VOC',
        data_root=str(voc_root),
        split='test',
        test_mode=True,
        pipeline=cfg.val_dataloader.dataset.pipeline)
    monkeypatch.setattr(clip_initial_label_hook, 'label_global_views',
                        lambda *args, **kwargs: pytest.fail('teacher ran'))
    return runner_from_cfg(cfg)


def test_check_runs_before_the_teacher_pass(tmp_path, tiny_clip_resnet,
                                            monkeypatch):
    """In a run, a validation split with a missing image stops training
    before the initial labeling, not after the teacher pass."""
    voc_root = tmp_path / 'VOC2007'
    write_voc(voc_root, dict(test=every_class_split(100)), ('000102', ))
    runner = ccd_run_validated_on(voc_root, tmp_path, tiny_clip_resnet,
                                  monkeypatch)
    with pytest.raises(FileNotFoundError, match='000102.jpg'):
        runner.train()


def break_images(root):
    """Empty one JPEG of the split and cut another short (as a copy killed
    midway leaves it); their headers alone do not tell."""
    images = root / 'JPEGImages'
    empty, truncated = images / '000101.jpg', images / '000103.jpg'
    empty.write_bytes(b'')
    Image.new('RGB', (64, 64), (10, 120, 10)).save(truncated, quality=95)
    truncated.write_bytes(truncated.read_bytes()[:300])
    return str(empty), str(truncated)


def test_undecodable_val_and_test_images_fail_naming_them(tmp_path):
    runner = voc_runner(tmp_path / 'VOC2007')
    empty, truncated = break_images(tmp_path / 'VOC2007')
    hook = HOOKS.build(dict(type='EvalImageCheckHook', num_workers=0))
    with pytest.raises(
            RuntimeError,
            match=r'2 of the 5 images of the validation split \(VOC\) '
            r'cannot be decoded by its pipeline') as raised:
        hook.before_train(runner)
    assert empty in str(raised.value) and truncated in str(raised.value)
    with pytest.raises(RuntimeError, match='of the test split'):
        hook.before_test(runner)


def test_decode_check_honours_the_pixel_limit(tmp_path):
    runner = voc_runner(tmp_path / 'VOC2007')
    hook = HOOKS.build(
        dict(type='EvalImageCheckHook', max_image_pixels=63, num_workers=2))
    with pytest.raises(
            RuntimeError,
            match='5 of the 5 .*8 x 8 = 64 pixels, over the limit '
            'of 63'):
        hook.before_train(runner)


def test_undecodable_val_image_stops_the_run_before_the_teacher_pass(
        tmp_path, tiny_clip_resnet, monkeypatch):
    voc_root = tmp_path / 'VOC2007'
    write_voc(voc_root, dict(test=every_class_split(100)))
    break_images(voc_root)
    runner = ccd_run_validated_on(voc_root, tmp_path, tiny_clip_resnet,
                                  monkeypatch)
    with pytest.raises(RuntimeError, match='000101.jpg.*000103.jpg'):
        runner.train()


def test_no_validation_loop_is_not_checked():
    hook = HOOKS.build(dict(type='EvalImageCheckHook'))
    hook.before_train(SimpleNamespace(val_loop=None))
