"""A CCD run on a ShapesML fixture small enough for the test suite: the demo
config (configs/shapes/ccd_shapesml.py) at 32 px with a tiny random CLIP."""
import copy
import json
from pathlib import Path

from mmengine.config import Config

from ccd_mm.datasets.shapesml_generator import generate_shapesml
from ccd_mm.engine import load_checkpoint_file

REPO = Path(__file__).resolve().parents[2]
SIZE = 32


def load(path) -> dict:
    """A checkpoint or table file a test run wrote, read as every tool reads
    it: without running code from it."""
    return load_checkpoint_file(str(path), map_location='cpu')


def make_shapes_root(root: Path, permute_train_labels: bool = False) -> str:
    """A ShapesML fixture; optionally with the train split's labels shuffled
    between images (a run that ignores train GT cannot tell)."""
    generate_shapesml(str(root), seed=0, num_train=16, num_test=12,
                      image_size=SIZE)
    if permute_train_labels:
        ann_file = root / 'annotations' / 'train.json'
        annotations = json.loads(ann_file.read_text())
        images = annotations['images']
        objects = [image['objects'] for image in images]
        for image, shifted in zip(images, objects[1:] + objects[:1]):
            image['objects'] = shifted
        ann_file.write_text(json.dumps(annotations))
    return str(root)


def ccd_shapes_config(data_root: str, teacher: dict, work_dir: str,
                      max_epochs: int = 4, num_workers: int = 0,
                      random_views: bool = False) -> Config:
    cfg = Config.fromfile(str(REPO / 'configs/shapes/ccd_shapesml.py'))
    # No pretrained backbone file in the test harness: random init.
    cfg.model.backbone.init_cfg = None
    teacher = dict(type='CLIPTeacher', **teacher)
    views = dict(view_size=SIZE, batch_size=8, num_workers=0)
    hooks = cfg.default_hooks
    hooks.initial_labels.update(
        teacher=teacher, entropy_threshold=2.0, **views)
    hooks.label_update.update(
        teacher=teacher, class_threshold=0.3, crop_size=SIZE, box_offset=4,
        record_boxes=3, record_proposals=True, **views)
    hooks.label_free_checkpoint.update(record_scores=True, **views)
    # The method's hooks only (the tool tests add the statistics).
    del hooks.pseudo_label_stats, hooks.eval_image_check
    train = cfg.train_dataloader
    train.dataset.dataset.data_root = data_root
    train.batch_size = 4
    train.num_workers = num_workers
    train.persistent_workers = num_workers > 0
    weak = [dict(type='RandomFlip', prob=0.5)] if random_views else []
    strong = copy.deepcopy(weak) + [
        dict(type='NumpyToPIL', to_rgb=True),
        dict(type='torchvision/ColorJitter', brightness=0.5),
        dict(type='PILToNumpy', to_bgr=True)
    ] if random_views else []
    load, resize, views, pack = train.dataset.dataset.pipeline
    resize.scale = (SIZE, SIZE)
    views.transforms = [weak, strong]
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = data_root
        loader.num_workers = 0
        loader.dataset.pipeline[1].scale = (SIZE, SIZE)
    cfg.train_cfg.max_epochs = max_epochs
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg.log_level = 'WARNING'
    return cfg
