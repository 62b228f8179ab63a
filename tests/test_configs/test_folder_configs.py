"""The folder configs: your own images and class names, no labelled split,
CCD with the released script's values."""
from mmengine.config import Config

from ccd_mm.datasets.shapesml_generator import SHAPESML_CLASSES
from ccd_mm.engine import build_pseudo_label_dataset
from tests.fixtures.runner_names import runner_from_cfg
from .config_builds import CONFIG_DIR, REPO, write_image_folder
from .test_configs import leaf_differences

FOLDER_CONFIGS = ('ccd_folder.py', 'shapes/ccd_shapesml_folder.py')
EVALUATION_KEYS = ('val_dataloader', 'val_evaluator', 'val_cfg',
                   'test_dataloader', 'test_evaluator', 'test_cfg')


def load(name: str) -> Config:
    return Config.fromfile(str(CONFIG_DIR / name))


def test_no_labelled_split_and_the_label_free_choice():
    for name in FOLDER_CONFIGS:
        cfg = load(name)
        assert [cfg.get(key) for key in EVALUATION_KEYS] == [None] * 6, name
        assert cfg.default_hooks.label_free_checkpoint.type == \
            'LabelFreeCheckpointHook'
        inner = cfg.train_dataloader.dataset.dataset
        assert (inner.type, inner.with_label) == ('CustomDataset', False)
        assert 'ann_file' not in inner


def test_runner_builds_without_evaluation(layouts, monkeypatch, tmp_path):
    """mmengine wants a split's loader, loop and evaluator all given or
    all None."""
    monkeypatch.chdir(layouts)
    cfg = load('shapes/ccd_shapesml_folder.py')
    cfg.work_dir = str(tmp_path)
    runner = runner_from_cfg(cfg)
    assert runner.val_loop is None
    names = [type(hook).__name__ for hook in runner.hooks]
    assert {
        'CLIPInitialLabelHook', 'CAMLabelUpdateHook',
        'LabelFreeCheckpointHook', 'EvalImageCheckHook'
    } <= set(names)


def test_shapesml_folder_reads_the_train_images_and_the_class_file(
        layouts, monkeypatch):
    monkeypatch.chdir(layouts)
    folder = build_pseudo_label_dataset(load('shapes/ccd_shapesml_folder.py'))
    shapes = build_pseudo_label_dataset(load('shapes/ccd_shapesml.py'))
    assert folder.image_paths() == shapes.image_paths()
    assert folder.metainfo['classes'] == SHAPESML_CLASSES
    # Nothing but the image's path: no annotation to drop.
    assert set(folder.dataset.get_data_info(0)) == {'img_path', 'sample_idx'}


def test_ccd_folder_lists_nested_images(layouts, monkeypatch):
    monkeypatch.chdir(layouts)
    dataset = build_pseudo_label_dataset(load('ccd_folder.py'))
    assert dataset.image_paths() == [
        'data/my_images/a.jpg', 'data/my_images/b.png',
        'data/my_images/holiday/c.JPG'
    ]
    assert len(dataset.metainfo['classes']) == \
        load('ccd_folder.py').model.head.num_classes


def test_ccd_folder_is_the_default_preset_on_a_folder():
    """Every method value is the defaults' (as on VOC 2012)."""
    folder = load('ccd_folder.py').to_dict()
    default = load('ccd_voc12.py').to_dict()
    differences = leaf_differences(folder, default)
    data = {
        '.data_root', '.classes', '.class_prompts', '.num_classes',
        '.data_preprocessor.num_classes', '.model.head.num_classes',
        '.train_dataloader.dataset.class_prompts'
    }
    data |= {f'.{key}' for key in EVALUATION_KEYS}
    method = {
        difference
        for difference in differences - data
        if not difference.startswith('.train_dataloader.dataset.dataset.')
    }
    # CAM boxes of 8 images are recorded for tools/visualize.py.
    assert method == {'.default_hooks.label_update.record_boxes'}


def test_shapesml_folder_is_ccd_shapesml_on_a_folder():
    folder = load('shapes/ccd_shapesml_folder.py').to_dict()
    shapes = load('shapes/ccd_shapesml.py').to_dict()
    differences = leaf_differences(folder, shapes)
    inner = {
        difference
        for difference in differences
        if difference.startswith('.train_dataloader.dataset.dataset.')
    }
    assert inner == {
        f'.train_dataloader.dataset.dataset.{key}'
        for key in ('type', 'data_prefix', 'with_label', 'classes', 'split')
    }
    assert differences - inner == {f'.{key}' for key in EVALUATION_KEYS}


def test_shapesml_class_file_is_the_generator_order():
    lines = (CONFIG_DIR / 'shapes' / 'shapesml_classes.txt').read_text()
    assert tuple(lines.splitlines()) == SHAPESML_CLASSES


def readme_own_images_config() -> str:
    """The config of the README's section "Your own images"."""
    readme = (REPO / 'README.md').read_text()
    section = readme.split('\n## Your own images\n', 1)[1].split('\n## ')[0]
    return section.split('```python\n', 1)[1].split('```', 1)[0]


def test_readme_config_names_your_folder_and_classes(tmp_path, monkeypatch):
    (tmp_path / 'configs').mkdir()
    config = tmp_path / 'configs' / 'my_images.py'
    config.write_text(readme_own_images_config().replace(
        './ccd_folder.py', str(CONFIG_DIR / 'ccd_folder.py')))
    write_image_folder(tmp_path / 'data' / 'my_images')
    names = ['cat', 'dog', 'potted plant', 'bicycle', 'person']
    (tmp_path / 'data' / 'my_images' /
     'classes.txt').write_text('\n'.join(names) + '\n')
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(str(config))
    dataset = build_pseudo_label_dataset(cfg)
    assert len(dataset) == 3
    assert dataset.metainfo['classes'] == tuple(names)
    assert cfg.model.head.num_classes == len(names)


def test_a_labelled_split_is_added_for_evaluation(layouts, monkeypatch,
                                                  tmp_path):
    """As the README says: a val loader, evaluator and loop on top of
    configs/ccd_folder.py evaluate; training still reads the folder
    alone."""
    config = tmp_path / 'with_val.py'
    config.write_text(f"""
_base_ = ['{CONFIG_DIR / 'ccd_folder.py'}']
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ShapesML', data_root='data/shapesml', split='test',
                 test_mode=True, pipeline=_base_.test_pipeline))
val_evaluator = [dict(type='AveragePrecision')]
val_cfg = dict()
""")
    monkeypatch.chdir(layouts)
    cfg = Config.fromfile(str(config))
    cfg.work_dir = str(tmp_path / 'work')
    runner = runner_from_cfg(cfg)
    assert len(runner.val_loop.dataloader.dataset) == 12
    assert cfg.train_dataloader.dataset.dataset.type == 'CustomDataset'
