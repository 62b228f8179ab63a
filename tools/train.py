"""Train a model from a config, as mmpretrain's ``tools/train.py`` does.

Importing ccd_mm registers its components, so configs need no
``custom_imports``. Checkpoints, ``--resume`` and ``load_from`` included, are
read without running code from them (``ccd_mm/engine/checkpoint_loaders.py``);
``trusted://PATH`` unpickles a file you trust in full.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

# Importing ccd_mm registers its components in mmpretrain's registries.
import ccd_mm  # noqa: F401
from ccd_mm.engine import prepare_cpu_distributed


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or without a path from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual / the base batch size')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='do not keep dataloader workers alive between epochs')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs such as '
        'train_cfg.max_epochs=2 or key="[a,b]"; merged last')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank, older ones --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def set_dataloader_defaults(cfg, args):
    """Keep workers alive between epochs, as mmpretrain's tools do.

    The pseudo-label table is shared memory updated in place, so persistent
    workers see new labels. DataLoader refuses persistent workers
    without workers, hence the ``num_workers`` check.
    """
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(field)
        if loader is None:
            continue
        loader.setdefault('collate_fn', dict(type='default_collate'))
        if args.no_persistent_workers or loader.get('num_workers', 0) == 0:
            loader.persistent_workers = False
        else:
            loader.setdefault('persistent_workers', True)


def merge_args(cfg, args):
    """Merge command-line arguments into the config."""
    # Our components live in mmpretrain's registries; without a scope the
    # runner would build from mmengine's and miss mmpretrain's models/metrics.
    cfg.setdefault('default_scope', 'mmpretrain')
    cfg.launcher = args.launcher

    # work_dir: CLI > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    # After --cfg-options, which may change num_workers.
    set_dataloader_defaults(cfg, args)

    # Without a path the runner resumes from the latest checkpoint of the
    # work dir (its `last_checkpoint`), after --cfg-options may have moved it.
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    prepare_cpu_distributed(cfg)
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
