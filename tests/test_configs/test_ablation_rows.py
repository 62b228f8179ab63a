"""Rows of CCD's ablation (Table 2) as the few lines of a config that
inherits configs/shapes/ccd_shapesml_paper.py: every switch a row needs is a
named config value, and the row builds."""
import uuid
from textwrap import dedent

import torch
from mmengine.config import Config
from mmengine.visualization import Visualizer
from mmpretrain.registry import HOOKS, MODELS

from .config_builds import CONFIG_DIR, build_components, hook_configs

SHAPESML = CONFIG_DIR / 'shapes' / 'ccd_shapesml_paper.py'
SCRIPT_VALUES = CONFIG_DIR / '_base_' / 'methods' / 'ccd_script_values.py'


def row_config(tmp_path, name: str, body: str) -> Config:
    path = tmp_path / f'{name}.py'
    path.write_text(
        dedent(body).format(
            ccd_shapesml=SHAPESML, script_values=SCRIPT_VALUES))
    return Config.fromfile(str(path))


def built_hooks(cfg: Config) -> dict:
    # mmpretrain's VisualizationHook takes the current Visualizer, which a
    # Runner would have made: one of this test's own, so that the test does
    # not depend on one left by a test run before it.
    Visualizer.get_instance(f'built_hooks_{uuid.uuid4().hex}')
    return {
        name: HOOKS.build(hook)
        for name, hook in cfg.default_hooks.items() if hook is not None
    }


def test_row_teacher_labels_alone(tmp_path, layouts, monkeypatch):
    """Row 1: the teacher's global labels, no debias, no label update, no
    consistency."""
    cfg = row_config(
        tmp_path, 'global', """
        _base_ = ['{ccd_shapesml}']
        default_hooks = dict(
            label_update=dict(update_epochs=[]),
            warmup=dict(consistency=False))
        train_dataloader = dict(
            dataset=dict(target_transform=dict(debias=False)))
        """)
    monkeypatch.chdir(layouts)
    built = build_components(cfg)
    hooks = built_hooks(cfg)
    assert list(hooks['label_update'].update_epochs) == []
    assert hooks['warmup'].consistency is False
    transform = built['train']['dataset'].target_transform
    assert (transform.debias, transform.alpha) == (False, 0.4)
    # Everything else is the full method's.
    full = Config.fromfile(str(SHAPESML))
    assert cfg.default_hooks.label_update.class_threshold == \
        full.default_hooks.label_update.class_threshold
    assert cfg.default_hooks.label_free_checkpoint == \
        full.default_hooks.label_free_checkpoint


def test_row_with_the_released_script_values(tmp_path):
    """The *_script preset on ShapesML, its values taken from the one file
    that states them, the ShapesML sizes kept."""
    cfg = row_config(
        tmp_path, 'script', """
        _base_ = ['{ccd_shapesml}', '{script_values}']
        teacher = _base_.ccd_script_values.teacher
        default_hooks = _base_.ccd_script_values.default_hooks
        model = _base_.ccd_script_values.model
        optim_wrapper = _base_.ccd_script_values.optim_wrapper
        train_dataloader = dict(
            dataset=_base_.ccd_script_values.pseudo_label_dataset)
        """)
    hooks = built_hooks(cfg)
    assert hooks['initial_labels'].entropy_threshold == 2.0
    assert (hooks['label_update'].class_threshold,
            hooks['label_update'].adaptive_bound) == ('windowed', 4)
    assert hooks['warmup'].cam_scale_from_epoch == 0
    assert hooks['label_update'].boxes_from_scaled_cam
    assert cfg.train_dataloader.dataset.target_transform.alpha == 0.2
    assert cfg.model.head.positive_cam_scale == 3.0
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.head.lr_mult == 10
    assert cfg.optim_wrapper.optimizer.lr == 1e-3  # ShapesML's rate
    assert cfg.teacher.normalization == 'imagenet'
    assert cfg.teacher.model_name == 'shapesml-clip-rn'
    assert (hooks['initial_labels'].view_size, hooks['label_update'].view_size,
            hooks['label_update'].crop_size,
            hooks['label_update'].box_offset) == (96, 128, 96, 16)


def test_row_selection_and_threshold_arguments(tmp_path):
    cfg = row_config(
        tmp_path, 'adaptive', """
        _base_ = ['{ccd_shapesml}']
        default_hooks = dict(
            label_update=dict(class_threshold='adaptive', adaptive_bound=3),
            label_free_checkpoint=dict(filename='selected.pth',
                                       batch_size=8))
        """)
    hooks = built_hooks(cfg)
    assert (hooks['label_update'].class_threshold,
            hooks['label_update'].adaptive_bound) == ('adaptive', 3)
    assert (hooks['label_free_checkpoint'].filename,
            hooks['label_free_checkpoint'].batch_size,
            hooks['label_free_checkpoint'].view_size) == ('selected.pth', 8,
                                                          128)


def test_row_ground_truth_labels(tmp_path, layouts, monkeypatch):
    """A report-only reference: the train split's own labels, no
    pseudo-label wrapper and none of the hooks that need one."""
    cfg = row_config(
        tmp_path, 'ground_truth', """
        _base_ = ['{ccd_shapesml}']
        train_dataloader = dict(
            dataset=dict(
                _delete_=True,
                type='ShapesML',
                data_root=_base_.data_root,
                split='train',
                pipeline=_base_.train_pipeline))
        # gt_score, the target of the head, from gt_label.
        data_preprocessor = dict(to_onehot=True)
        pseudo_label_hooks = ('initial_labels', 'label_update',
                              'label_free_checkpoint', 'pseudo_label_stats')
        default_hooks = dict(
            _delete_=True,
            warmup=dict(type='CCDWarmupHook', consistency=False),
            **{{
                name: hook
                for name, hook in _base_.default_hooks.items()
                if name not in pseudo_label_hooks and name != 'warmup'
            }})
        """)
    types = {hook.type for hook in hook_configs(cfg)}
    assert types.isdisjoint({
        'CLIPInitialLabelHook', 'CAMLabelUpdateHook',
        'LabelFreeCheckpointHook', 'PseudoLabelStatsHook'
    })
    # The runtime's hooks stay, with the ShapesML config's settings.
    assert cfg.default_hooks.logger.interval == 20
    assert cfg.default_hooks.checkpoint.max_keep_ckpts == 3
    monkeypatch.chdir(layouts)
    built = build_components(cfg)
    sample = built['train']['batch']['data_samples'][0]
    expected = sample.gt_label.new_zeros(12).float()
    expected[sample.gt_label] = 1
    assert sample.gt_score.tolist() == expected.tolist()


def test_row_with_both_dense_options():
    cfg = Config.fromfile(
        str(CONFIG_DIR / 'shapes' / 'ablation' / 'dense_labels.py'))
    hooks = built_hooks(cfg)
    assert hooks['initial_labels'].dense_fusion is True
    assert hooks['label_update'].local_labels == 'dense'
    # Everything else is the full method's.
    full = Config.fromfile(str(SHAPESML))
    assert cfg.default_hooks.label_update.cam_threshold == \
        full.default_hooks.label_update.cam_threshold
    assert cfg.train_dataloader == full.train_dataloader


def test_row_with_a_finer_cam():
    """``script_fine_cam``: the script preset whose CAM has 16 x 16 cells on
    a 128 px scene; nothing else differs."""
    cfg = Config.fromfile(
        str(CONFIG_DIR / 'shapes' / 'ablation' / 'script_fine_cam.py'))
    script = Config.fromfile(str(CONFIG_DIR / 'shapes' / 'ccd_shapesml.py'))
    backbone = MODELS.build(dict(cfg.model.backbone, init_cfg=None))
    features = backbone(torch.zeros(1, 3, cfg.image_size, cfg.image_size))
    assert features[-1].shape[-2:] == (16, 16)
    assert cfg.model.backbone.pop('strides') != \
        script.model.backbone.pop('strides')
    assert cfg.model == script.model
    assert cfg.default_hooks == script.default_hooks
    assert cfg.train_dataloader == script.train_dataloader


def test_row_of_the_defaults_with_dense_local_labels():
    """``script_dense_local_labels``: the defaults' preset whose update pools
    its boxes on one dense teacher pass; nothing else differs."""
    cfg = Config.fromfile(
        str(CONFIG_DIR / 'shapes' / 'ablation' /
            'script_dense_local_labels.py'))
    defaults = Config.fromfile(str(CONFIG_DIR / 'shapes' / 'ccd_shapesml.py'))
    assert built_hooks(cfg)['label_update'].local_labels == 'dense'
    assert defaults.default_hooks.label_update.get('local_labels',
                                                   'crops') == 'crops'
    defaults.default_hooks.label_update.local_labels = 'dense'
    assert cfg.default_hooks == defaults.default_hooks
    assert cfg.model == defaults.model
    assert cfg.train_dataloader == defaults.train_dataloader
