"""Every config under configs/ builds, and the presets resolve to the
values the papers and the released script set."""
import argparse
import json
import re

import pytest
import torch
from mmengine.config import Config, DictAction
from mmpretrain.registry import HOOKS, MODELS, TRANSFORMS

from ccd_mm.datasets import CLIPPseudoLabelDataset
from ccd_mm.engine.teacher_config import resolve_teacher_config
from tests.fixtures.runner_names import runner_from_cfg
from .config_builds import (CONFIG_DIR, REPO, build_components, hook_configs,
                            present_splits)

CONFIGS = sorted(
    path for path in CONFIG_DIR.rglob('*.py')
    if '_base_' not in path.relative_to(CONFIG_DIR).parts)
DATASETS = ('voc07', 'voc12', 'coco', 'nus')
NUM_CLASSES = dict(voc07=20, voc12=20, coco=80, nus=81)


def load(name: str) -> Config:
    return Config.fromfile(str(CONFIG_DIR / name))


def image_tensors(inputs) -> list:
    if isinstance(inputs, torch.Tensor):
        return [inputs]
    values = inputs.values() if isinstance(inputs, dict) else inputs
    return [tensor for value in values for tensor in image_tensors(value)]


def test_the_configs_are_found():
    names = {str(path.relative_to(CONFIG_DIR)) for path in CONFIGS}
    for suffix in ('', '_paper', '_script'):
        assert {f'ccd_{d}{suffix}.py' for d in DATASETS} <= names
    assert {f'cdul_{d}.py' for d in DATASETS} <= names
    assert {
        'shapes/ccd_shapesml.py', 'shapes/ccd_shapesml_paper.py',
        'shapes/cdul_shapesml.py'
    } <= names


@pytest.mark.parametrize(
    'path', CONFIGS, ids=lambda path: str(path.relative_to(CONFIG_DIR)))
def test_config_builds(path, layouts, monkeypatch, tmp_path):
    monkeypatch.chdir(layouts)
    cfg = Config.fromfile(str(path))
    built = build_components(cfg)
    size = cfg.image_size
    for split in present_splits(cfg):
        batch = built[split]['batch']
        for images in image_tensors(batch['inputs']):
            assert images.shape[-3:] == (3, size, size), split
    num_classes = cfg.model.head.num_classes
    assert len(built['train']['dataset'].metainfo['classes']) == num_classes
    # The heads' target; from the teacher, the split's labels gone.
    sample = built['train']['batch']['data_samples'][0]
    assert sample.gt_score.shape == (num_classes, )
    if isinstance(built['train']['dataset'], CLIPPseudoLabelDataset):
        assert 'gt_label' not in sample
    # The tools dump the config they ran; the dump loads back the same.
    cfg.dump(str(tmp_path / 'dumped.py'))
    assert Config.fromfile(str(tmp_path / 'dumped.py')).to_dict() == \
        cfg.to_dict()


def test_shapesml_config_builds_a_runner(layouts, monkeypatch, tmp_path):
    """The runtime settings every config shares (env, visualizer, log
    processor, randomness) as the Runner reads them."""
    monkeypatch.chdir(layouts)
    cfg = load('shapes/ccd_shapesml.py')
    cfg.work_dir = str(tmp_path)
    runner = runner_from_cfg(cfg)
    # The method's hooks are named default hooks: the runner registers
    # them, after its own of equal priority, in the configs' order.
    names = [type(hook).__name__ for hook in runner.hooks]
    assert names == [
        'EvalImageCheckHook', 'RuntimeInfoHook', 'FiniteLossHook',
        'CLIPInitialLabelHook', 'CAMLabelUpdateHook', 'IterTimerHook',
        'DistSamplerSeedHook', 'VisualizationHook', 'CCDWarmupHook',
        'PseudoLabelStatsHook', 'LoggerHook', 'ParamSchedulerHook',
        'LabelFreeCheckpointHook', 'CheckpointHook'
    ]


@pytest.mark.parametrize('dataset', DATASETS)
def test_paper_preset(dataset):
    cfg = load(f'ccd_{dataset}_paper.py')
    hooks = cfg.default_hooks
    assert hooks.initial_labels.entropy_threshold == 0.5  # tau_H
    assert hooks.label_update.class_threshold == 0.5  # t
    assert hooks.label_update.update_epochs == (2, )
    assert hooks.label_update.cam_threshold == 0.95
    assert hooks.warmup.warmup_epochs == 2  # E_w
    assert hooks.warmup.consistency
    assert hooks.warmup.get('cam_scale_from_epoch') is None
    assert cfg.train_dataloader.dataset.target_transform == dict(
        type='DebiasPseudoLabel', debias=True, alpha=0.4)
    assert cfg.teacher.model_name == 'RN50x64-quickgelu'
    assert cfg.teacher.normalization == 'clip'
    # Pixel sizes: CLIP at 640 px, boxes grown by 80 px, the classifier
    # trained, tested and scored for selection at 448 px.
    assert hooks.initial_labels.view_size == 640
    assert (hooks.label_update.view_size, hooks.label_update.crop_size,
            hooks.label_update.box_offset) == (640, 640, 80)
    assert cfg.image_size == 448
    assert hooks.label_free_checkpoint.view_size == 448
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-5)
    assert 'paramwise_cfg' not in cfg.optim_wrapper
    assert cfg.model.head.get('positive_cam_scale', 1.0) == 1.0
    assert cfg.train_dataloader.batch_size == 16
    assert cfg.train_cfg.max_epochs == 10
    assert cfg.model.head.num_classes == NUM_CLASSES[dataset]


def leaf_differences(first, second, path=''):
    """The paths at which two resolved configs differ."""
    if isinstance(first, dict) and isinstance(second, dict):
        return {
            difference
            for key in set(first) | set(second)
            for difference in leaf_differences(
                first.get(key), second.get(key), f'{path}.{key}')
        }
    return set() if first == second else {path}


# Where the released script's values land in a resolved config (besides
# the teacher's normalisation).
SCRIPT_VALUE_PATHS = {
    '.default_hooks.initial_labels.entropy_threshold',
    '.default_hooks.label_update.class_threshold',
    '.default_hooks.label_update.adaptive_bound',
    '.default_hooks.warmup.cam_scale_from_epoch',
    '.default_hooks.label_update.boxes_from_scaled_cam',
    '.default_hooks.label_update.box_rule',
    '.model.head.positive_cam_scale',
    '.optim_wrapper.paramwise_cfg',
    '.train_dataloader.dataset.target_transform.alpha',
    '.train_dataloader.dataset.prompt_templates',
    '.train_dataloader.dataset.target_transform.clamp_local',
}
# Where the script's ResNet-50 lands in the presets of ImageNet-backbone
# datasets (the ShapesML ones keep their own backbone).
SCRIPT_BACKBONE_PATHS = {
    '.model.backbone.depth',
    '.model.backbone.init_cfg.checkpoint',
    '.model.backbone.init_cfg.prefix',
}


@pytest.mark.parametrize('dataset', DATASETS)
def test_script_preset_changes_only_the_script_values(dataset):
    paper = load(f'ccd_{dataset}_paper.py').to_dict()
    script = load(f'ccd_{dataset}_script.py').to_dict()
    del script['ccd_script_values']
    assert leaf_differences(
        paper, script) == SCRIPT_VALUE_PATHS | SCRIPT_BACKBONE_PATHS | {
            '.teacher.normalization',
            '.pseudo_label_dataset.target_transform.alpha',
            '.pseudo_label_dataset.prompt_templates',
            '.pseudo_label_dataset.target_transform.clamp_local',
        }
    cfg = load(f'ccd_{dataset}_script.py')
    hooks = cfg.default_hooks
    assert cfg.teacher.normalization == 'imagenet'
    assert hooks.initial_labels.entropy_threshold == 2.0
    assert (hooks.label_update.class_threshold,
            hooks.label_update.adaptive_bound) == ('windowed', 4)
    # train.py sets the x3 after epoch 0's labelling, before its training,
    # and draws the boxes from the scaled CAM.
    assert hooks.warmup.cam_scale_from_epoch == 0
    assert hooks.label_update.boxes_from_scaled_cam is True
    assert hooks.label_update.box_rule == 'row_major_corners'
    assert cfg.model.head.positive_cam_scale == 3.0
    # models.py builds torchvision's ImageNet ResNet-50 whatever its --arch.
    assert cfg.model.backbone.depth == 50
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='torchvision://resnet50')
    assert cfg.optim_wrapper.paramwise_cfg == dict(
        custom_keys=dict(head=dict(lr_mult=10)))
    assert cfg.train_dataloader.dataset.target_transform.alpha == 0.2
    assert cfg.train_dataloader.dataset.target_transform.clamp_local is False
    # train.py's one template, without a period, on every dataset.
    assert cfg.train_dataloader.dataset.prompt_templates == (
        'a photo of the {}', )


@pytest.mark.parametrize('dataset', DATASETS)
def test_default_preset_is_the_paper_setup_with_the_script_method(dataset):
    """The defaults take the script's method values and nothing the script
    ties to its models: the paper's ResNet-101, teacher input and
    prompts."""
    paper = load(f'ccd_{dataset}_paper.py').to_dict()
    default = load(f'ccd_{dataset}.py').to_dict()
    del default['ccd_script_values']
    method_paths = SCRIPT_VALUE_PATHS - {
        '.train_dataloader.dataset.prompt_templates'
    }
    assert leaf_differences(paper, default) == method_paths | {
        '.pseudo_label_dataset.target_transform.alpha',
        '.pseudo_label_dataset.target_transform.clamp_local',
    }
    script = load(f'ccd_{dataset}_script.py').to_dict()
    del script['ccd_script_values']
    assert leaf_differences(default, script) == SCRIPT_BACKBONE_PATHS | {
        '.teacher.normalization',
        '.train_dataloader.dataset.prompt_templates',
        '.pseudo_label_dataset.prompt_templates',
    }
    cfg = load(f'ccd_{dataset}.py')
    assert cfg.model.backbone.depth == 101
    assert cfg.teacher.normalization == 'clip'
    assert cfg.default_hooks.label_update.class_threshold == 'windowed'
    assert cfg.train_dataloader.dataset.target_transform == dict(
        type='DebiasPseudoLabel', debias=True, alpha=0.2, clamp_local=False)


@pytest.mark.parametrize('dataset', DATASETS)
def test_cdul_preset(dataset):
    cfg = load(f'cdul_{dataset}.py')
    hooks = cfg.default_hooks
    assert set(hooks) >= {'initial_labels', 'label_update'}
    assert 'label_free_checkpoint' not in hooks  # the last epoch is kept
    assert hooks.initial_labels.type == 'CDULInitialLabelHook'
    assert (hooks.initial_labels.view_size, hooks.initial_labels.snippet_size,
            hooks.initial_labels.grid, hooks.initial_labels.zeta,
            hooks.initial_labels.lam) == (448, 448, 3, 0.2, 1.0)
    assert hooks.label_update.type == 'GradientAlignmentHook'
    assert hooks.label_update.warmup_epochs == 3
    assert hooks.label_update.view_size == cfg.image_size == 448
    train = cfg.train_dataloader
    assert train.dataset.prompt_templates == ('a photo of the {}.', )
    assert train.dataset.target_transform.type == 'LatentPseudoLabel'
    # One view of the whole image: resize and flip.
    pipeline = [t['type'] for t in train.dataset.dataset.pipeline]
    assert pipeline == [
        'LoadImageFromFile', 'Resize', 'RandomFlip', 'PackInputs'
    ]
    assert train.batch_size == (8 if dataset.startswith('voc') else 16)
    assert cfg.train_cfg.max_epochs == 20
    assert cfg.model.head.type == 'KLMultiLabelHead'


def test_shapesml_default_keeps_the_shapesml_models_inputs():
    """The script's ResNet-50 is an ImageNet model: ShapesML keeps its own
    small backbone. Its ImageNet normalisation and prompt were chosen for
    OpenAI's CLIP: the ShapesML teacher keeps the normalisation and caption
    it was trained with. The method's values are the script's."""
    script = load('shapes/ccd_shapesml.py')
    paper = load('shapes/ccd_shapesml_paper.py')
    assert script.model.backbone == paper.model.backbone
    assert script.model.head.positive_cam_scale == 3.0
    assert script.teacher == paper.teacher
    assert script.teacher.normalization == 'clip'
    dataset, paper_dataset = (
        cfg.train_dataloader.dataset for cfg in (script, paper))
    assert dataset.get('prompt_templates') == paper_dataset.get(
        'prompt_templates')
    assert dict(dataset.target_transform) == dict(
        paper_dataset.target_transform, alpha=0.2, clamp_local=False)
    hooks = script.default_hooks
    assert hooks.initial_labels.entropy_threshold == 2.0
    assert hooks.label_update.class_threshold == 'windowed'
    assert hooks.warmup.cam_scale_from_epoch == 0


def test_shapesml_scales_the_paper_sizes():
    """128 px images: the classifier's views are the image size, the
    teacher's views and crops its native size, the box offset 80 px x 128 /
    640 on the classifier's view."""
    ccd = load('shapes/ccd_shapesml_paper.py')
    hooks = ccd.default_hooks
    assert ccd.image_size == 128
    teacher_json = json.loads((REPO / ccd.teacher.model_config).read_text())
    assert ccd.teacher_size == teacher_json['vision_cfg']['image_size'] == 96
    assert hooks.initial_labels.view_size == 96
    assert (hooks.label_update.view_size, hooks.label_update.crop_size,
            hooks.label_update.box_offset) == (128, 96, 16)
    assert hooks.label_free_checkpoint.view_size == 128
    cdul = load('shapes/cdul_shapesml.py')
    assert (cdul.default_hooks.initial_labels.view_size,
            cdul.default_hooks.initial_labels.snippet_size,
            cdul.default_hooks.label_update.view_size) == (96, 96, 128)
    # The method values are those of the VOC presets: the paper's here,
    # the defaults' in ccd_shapesml.py.
    for shapes, voc in (('ccd_shapesml_paper.py', 'ccd_voc12_paper.py'),
                        ('ccd_shapesml.py', 'ccd_voc12.py')):
        shapes, voc = load(f'shapes/{shapes}'), load(voc)
        for name in ('initial_labels', 'label_update', 'warmup'):
            for arg, value in voc.default_hooks[name].items():
                if arg not in ('view_size', 'crop_size', 'box_offset'):
                    assert shapes.default_hooks[name][arg] == value, (name,
                                                                      arg)
        assert shapes.train_dataloader.dataset.target_transform == \
            voc.train_dataloader.dataset.target_transform
        assert shapes.model.head.get('positive_cam_scale') == \
            voc.model.head.get('positive_cam_scale')
        assert shapes.optim_wrapper.get('paramwise_cfg') == \
            voc.optim_wrapper.get('paramwise_cfg')


@pytest.mark.parametrize(
    'path', CONFIGS, ids=lambda path: str(path.relative_to(CONFIG_DIR)))
def test_every_resize_is_the_image_size(path):
    """Pipelines and the classifier's views follow the one image size."""
    cfg = Config.fromfile(str(path))
    size = (cfg.image_size, cfg.image_size)
    for split in present_splits(cfg):
        text = repr(cfg[f'{split}_dataloader'])
        scales = re.findall(r"'Resize', 'scale': \((\d+), (\d+)\)", text)
        assert scales and {tuple(map(int, s)) for s in scales} == {size}
    for hook_type in ('LabelFreeCheckpointHook', 'GradientAlignmentHook'):
        for hook in (h for h in hook_configs(cfg) if h.type == hook_type):
            assert hook.view_size == cfg.image_size


def readme_switches() -> list:
    """The ``--cfg-options`` of the README's table of method switches."""
    readme = (REPO / 'README.md').read_text()
    section = readme.split('### Configs', 1)[1].split('\n## ', 1)[0]
    rows = [line for line in section.splitlines() if '--cfg-options' in line]
    return [
        re.search(r'`--cfg-options (.+?)`', row).group(1).replace('"', '')
        for row in rows
    ]


@pytest.mark.parametrize('options', readme_switches())
def test_readme_switch_reaches_the_built_component(options):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    values = parser.parse_args(['--cfg-options', *options.split()]).cfg_options
    cfg = load('shapes/ccd_shapesml.py')
    cfg.merge_from_dict(values)
    for key, value in values.items():
        component, _, arg = key.rpartition('.')
        if component.startswith('default_hooks.'):
            built = HOOKS.build(cfg.default_hooks[component.split('.')[1]])
        elif component == 'train_dataloader.dataset.target_transform':
            built = TRANSFORMS.build(
                cfg.train_dataloader.dataset.target_transform)
        elif component == 'model.head':
            built = MODELS.build(cfg.model.head)
        else:
            assert component == 'teacher', key
            built = argparse.Namespace(**resolve_teacher_config(None, cfg))
        actual = getattr(built, arg)
        if isinstance(value, list):  # a hook may keep a sequence as a tuple
            actual = list(actual)
        assert actual == value, key


def test_readme_lists_the_switches():
    switches = ' '.join(readme_switches())
    for key in ('default_hooks.label_update.update_epochs=[]',
                'train_dataloader.dataset.target_transform.debias=False',
                'default_hooks.warmup.consistency=False'):
        assert key in switches
