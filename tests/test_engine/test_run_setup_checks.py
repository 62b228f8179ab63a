"""Errors a config can hold show before the teacher's pass, not after it."""
import pytest
from mmpretrain.registry import HOOKS, TRANSFORMS

from ccd_mm.engine.hooks import clip_initial_label_hook
from ccd_mm.engine.run_setup_checks import earlier_run_outputs
from tests.fixtures.ccd_shapes_run import ccd_shapes_config, make_shapes_root
from tests.fixtures.runner_names import runner_from_cfg


@pytest.fixture
def shapes_config(tmp_path, tiny_clip_resnet):
    data_root = make_shapes_root(tmp_path / 'data')
    return ccd_shapes_config(
        data_root, tiny_clip_resnet, str(tmp_path / 'work'), max_epochs=1)


def test_head_for_other_classes_fails_before_the_teacher_pass(
        shapes_config, monkeypatch):
    monkeypatch.setattr(clip_initial_label_hook, 'label_global_views',
                        lambda *args, **kwargs: pytest.fail('teacher ran'))
    shapes_config.model.head.num_classes = 80
    runner = runner_from_cfg(shapes_config)
    labeling, = (
        hook for hook in runner.hooks
        if type(hook).__name__ == 'CLIPInitialLabelHook')
    # The first point of runner.train() at which the teacher could run.
    with pytest.raises(
            ValueError,
            match=r'model.head.num_classes is 80, but the training split '
            r'\(ShapesML\) has 12 classes'):
        labeling.before_train(runner)


def test_hook_arguments_are_checked_when_the_runner_builds(shapes_config):
    shapes_config.default_hooks.label_update.class_threshold = 1.5
    with pytest.raises(ValueError, match='class_threshold must lie in'):
        runner_from_cfg(shapes_config)


@pytest.mark.parametrize('hook, arguments, message', [
    ('CAMLabelUpdateHook', dict(class_threshold=1.5), 'class_threshold'),
    ('CAMLabelUpdateHook', dict(class_threshold='auto'), 'class_threshold'),
    ('CAMLabelUpdateHook', dict(cam_threshold=-0.1), 'cam_threshold'),
    ('CAMLabelUpdateHook', dict(box_offset=-1), 'box_offset'),
    ('CAMLabelUpdateHook', dict(box_rule='bbox'), 'box_rule'),
    ('CAMLabelUpdateHook', dict(crop_size=0), 'crop_size'),
    ('CAMLabelUpdateHook', dict(adaptive_bound=0), 'adaptive_bound'),
    ('CAMLabelUpdateHook', dict(update_epochs=(-1, )), 'update_epochs'),
    ('CAMLabelUpdateHook', dict(local_labels='patches'), 'local_labels'),
    ('CAMLabelUpdateHook', dict(dense_view_size=0), 'dense_view_size'),
    ('CLIPInitialLabelHook', dict(view_size=0), 'view_size'),
    ('CLIPInitialLabelHook', dict(num_workers=-1), 'num_workers'),
    ('CDULInitialLabelHook', dict(zeta=1.5), 'zeta'),
    ('CDULInitialLabelHook', dict(snippet_size=0), 'snippet_size'),
    ('GradientAlignmentHook', dict(batch_size=0), 'batch_size'),
])
def test_hook_refuses_values_outside_their_range(hook, arguments, message):
    with pytest.raises(ValueError, match=message):
        HOOKS.build(dict(type=hook, **arguments))


def test_adaptive_and_edge_values_are_accepted():
    hook = HOOKS.build(
        dict(
            type='CAMLabelUpdateHook',
            class_threshold='adaptive',
            cam_threshold=1.0,
            box_offset=0,
            num_workers=0))
    assert hook.class_threshold == 'adaptive'
    HOOKS.build(dict(type='CAMLabelUpdateHook', class_threshold=0))


@pytest.mark.parametrize('floor', [1.0, -0.1])
def test_debias_floor_outside_unit_interval_is_refused(floor):
    with pytest.raises(ValueError, match=r'floor must lie in \[0, 1\)'):
        TRANSFORMS.build(dict(type='DebiasPseudoLabel', floor=floor))


def test_earlier_run_outputs_are_found(tmp_path):
    for name in ('epoch_3.pth', 'best_label_free.pth', 'last_checkpoint',
                 'cam_boxes_epoch_3.json', 'notes.txt'):
        (tmp_path / name).write_text('')
    (tmp_path / '20260101_000000').mkdir()
    assert earlier_run_outputs(str(tmp_path)) == [
        'best_label_free.pth', 'cam_boxes_epoch_3.json', 'epoch_3.pth',
        'last_checkpoint'
    ]
