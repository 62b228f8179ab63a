"""A CDUL run on the ShapesML fixture of ``ccd_shapes_run``: the demo config
(configs/shapes/cdul_shapesml.py) at 32 px with a tiny random CLIP."""
from mmengine.config import Config

from .ccd_shapes_run import REPO, SIZE

# Steps of the latent labels at the start of (0-based) epochs 2 and 3 of a
# 4-epoch run, so a checkpoint holds updated labels before the last step.
WARMUP_EPOCHS = 2


def cdul_shapes_config(data_root: str,
                       teacher: dict,
                       work_dir: str,
                       max_epochs: int = 4) -> Config:
    cfg = Config.fromfile(str(REPO / 'configs/shapes/cdul_shapesml.py'))
    # No pretrained backbone file in the test harness: random init.
    cfg.model.backbone.init_cfg = None
    teacher = dict(type='CLIPTeacher', **teacher)
    loader = dict(batch_size=8, num_workers=0)
    hooks = cfg.default_hooks
    hooks.initial_labels.update(
        teacher=teacher, view_size=SIZE, snippet_size=SIZE, **loader)
    hooks.label_update.update(
        warmup_epochs=WARMUP_EPOCHS, view_size=SIZE, **loader)
    # The method's hooks only.
    del hooks.pseudo_label_stats, hooks.eval_image_check
    train = cfg.train_dataloader
    train.dataset.dataset.data_root = data_root
    train.batch_size = 4
    train.num_workers = 0
    train.persistent_workers = False
    # No random flip: a resumed run must see the same views as a straight one.
    train.dataset.dataset.pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(SIZE, SIZE)),
        dict(type='PackInputs'),
    ]
    for loader_cfg in (cfg.val_dataloader, cfg.test_dataloader):
        loader_cfg.dataset.data_root = data_root
        loader_cfg.num_workers = 0
        loader_cfg.dataset.pipeline[1].scale = (SIZE, SIZE)
    cfg.train_cfg.max_epochs = max_epochs
    cfg.train_cfg.val_interval = max_epochs
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg.log_level = 'WARNING'
    return cfg
