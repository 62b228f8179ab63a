"""Build what a config describes, as a run does before its first iteration,
without the teacher's or ImageNet's weights (none offline)."""
import copy
import inspect
import itertools
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import Evaluator
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DATA_SAMPLERS, VISUALIZERS, init_default_scope
from mmengine.runner import EpochBasedTrainLoop
from mmengine.utils import import_modules_from_strings
from mmpretrain.registry import DATASETS, HOOKS, MODELS
from PIL import Image

from ccd_mm.datasets import CLIPPseudoLabelDataset
from ccd_mm.datasets.shapesml_generator import generate_shapesml
from ccd_mm.engine import find_hook_configs
from tests.fixtures.coco_layout import write_coco
from tests.fixtures.nus_wide_layout import write_nus
from tests.fixtures.voc_layout import write_voc_devkit

REPO = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO / 'configs'
# Visualizers are named global instances: one name per build.
_RUNS = itertools.count()


def write_dataset_layouts(root: Path) -> Path:
    """Tiny VOC devkit, COCO-2014, NUS-WIDE and ShapesML trees where the
    configs' data roots point (``data/...`` under ``root``)."""
    data = root / 'data'
    write_voc_devkit(data / 'VOCdevkit')
    for name, write in (('coco', write_coco), ('nus_wide', write_nus)):
        (data / name).mkdir(parents=True)
        write(data / name)
    generate_shapesml(
        str(data / 'shapesml'),
        seed=0,
        num_train=4,
        num_test=12,
        image_size=32)
    write_image_folder(data / 'my_images')
    # Class-name files are named from the repository root.
    (root / 'configs').symlink_to(CONFIG_DIR)
    return root


def write_image_folder(folder: Path) -> None:
    """A few images of your own: two at the top, one in a subfolder."""
    (folder / 'holiday').mkdir(parents=True)
    for index, name in enumerate(('a.jpg', 'b.png', 'holiday/c.JPG')):
        Image.new('RGB', (40 + 8 * index, 32), (60 * index, 90, 200)).save(
            folder / name,
            format='JPEG' if name.lower().endswith('jpg') else 'PNG')


def present_splits(cfg: Config) -> list:
    """'train' and the evaluation splits the config gives (none for a
    folder of images without labels)."""
    return [
        split for split in ('train', 'val', 'test')
        if cfg.get(f'{split}_dataloader') is not None
    ]


def hook_configs(cfg: Config) -> list:
    """Every hook config a run of ``cfg`` registers."""
    named = [hook for hook in cfg.default_hooks.values() if hook is not None]
    return named + list(cfg.get('custom_hooks', []))


def decodes(path: str) -> bool:
    try:
        with Image.open(path) as image:
            image.load()
        return True
    except OSError:
        return False


def first_sample(dataset) -> dict:
    """One sample through the dataset's pipeline. A pseudo-label wrapper is
    labeled first as its labeling pass would leave it: uniform teacher
    scores, bias 1, the images that do not decode invalid."""
    if isinstance(dataset, CLIPPseudoLabelDataset):
        table = dataset.label_table
        table.write(
            'global_scores',
            torch.full((table.num_images, table.num_classes),
                       1 / table.num_classes))
        table.write('bias', torch.ones(table.num_classes))
        table.write('valid',
                    torch.tensor(list(map(decodes, dataset.image_paths()))))
        table.labeled.fill_(True)
        return dataset[0]  # the first valid image
    paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    return dataset[list(map(decodes, paths)).index(True)]


def unserialized(dataset: dict) -> dict:
    """``dataset`` with its split not serialised: serialising a few images
    only costs its gc.collect() (about 1 s here)."""
    dataset = copy.deepcopy(dataset)
    split = dataset
    while 'dataset' in split:
        split = split.dataset
    split.serialize_data = False
    return dataset


def bind_teacher(teacher: dict):
    """The teacher's arguments bound to its class's signature (building it
    would load weights)."""
    args = dict(teacher)
    return inspect.signature(MODELS.get(args.pop('type'))).bind(**args)


def build_components(cfg: Config) -> dict:
    """Build every component of ``cfg``; data roots are relative to the
    working directory. Returns them by name."""
    import_modules_from_strings(**cfg.get('custom_imports', {}))
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    # Visualization hooks draw on the visualizer: it comes first.
    built = dict(
        visualizer=VISUALIZERS.build(
            dict(cfg.visualizer, name=f'config_build_{next(_RUNS)}')))
    built['hooks'] = [HOOKS.build(hook) for hook in hook_configs(cfg)]
    model_cfg = dict(cfg.model)
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    built['model'] = model = MODELS.build(model_cfg)
    built['optim_wrapper'] = build_optim_wrapper(model, cfg.optim_wrapper)
    train_cfg = dict(cfg.train_cfg)
    assert train_cfg.pop('by_epoch')
    inspect.signature(EpochBasedTrainLoop).bind(
        runner=None, dataloader=None, **train_cfg)
    for split in present_splits(cfg):
        loader = cfg[f'{split}_dataloader']
        dataset = DATASETS.build(unserialized(loader.dataset))
        DATA_SAMPLERS.build(
            loader.sampler, default_args=dict(dataset=dataset, seed=0))
        batch = pseudo_collate([first_sample(dataset)])
        built[split] = dict(
            dataset=dataset,
            batch=model.data_preprocessor(batch, training=split == 'train'))
        if split != 'train':
            built[f'{split}_evaluator'] = Evaluator(cfg[f'{split}_evaluator'])
    dataset = built['train']['dataset']
    if isinstance(dataset, CLIPPseudoLabelDataset):
        teacher = dataset.teacher_config(cfg.teacher)
        built['teacher'] = bind_teacher(teacher).arguments
    return built


def method_hook(cfg: Config, hook_type: str) -> dict:
    """The config's single hook of ``hook_type``."""
    hooks = find_hook_configs(cfg, hook_type)
    assert len(hooks) == 1, hooks
    return hooks[0]
