"""Missing evaluation images stop a run before it starts: mmpretrain's VOC
lists an absent JPEG and would fail only at the first validation."""
from types import SimpleNamespace

import pytest
from mmpretrain.registry import DATASETS, HOOKS

from tests.test_datasets.test_voc import every_class_split, write_voc


def voc_runner(root, absent_images=()):
    write_voc(root, dict(test=every_class_split(100)), absent_images)
    dataset = DATASETS.build(
        dict(type='VOC', data_root=str(root), split='test', test_mode=True))
    loop = SimpleNamespace(dataloader=SimpleNamespace(dataset=dataset))
    return SimpleNamespace(val_loop=loop, test_loop=loop)


def test_missing_val_and_test_images_fail_with_count_and_paths(tmp_path):
    runner = voc_runner(tmp_path / 'VOC2007', absent_images=('000102', ))
    hook = HOOKS.build(dict(type='EvalImageCheckHook'))
    with pytest.raises(FileNotFoundError,
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
    assert hook.priority == 'HIGHEST'


def test_no_validation_loop_is_not_checked():
    hook = HOOKS.build(dict(type='EvalImageCheckHook'))
    hook.before_train(SimpleNamespace(val_loop=None))
