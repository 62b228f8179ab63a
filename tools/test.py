"""Evaluate a checkpoint on a config's test set, as mmpretrain's tool does.

Metrics are the config's ``test_evaluator`` (mmpretrain's): mAP over all
classes (``AveragePrecision``). VOC configs use ``VOCAveragePrecision``,
which follows the VOC convention for difficult objects: a class present in an
image only through objects marked difficult is ignored for that image
(neither positive nor negative).

The checkpoint is read without running code from it
(``ccd_mm/engine/checkpoint_loaders.py``; ``trusted://PATH`` unpickles a file
you trust in full), and every weight of the model must come from it: a
checkpoint of another model is an error naming the weights that differ, not
a number from random weights. The class names stored in the checkpoint
must be those of the config's test split (``--ignore-class-names`` skips
that check).
"""
import argparse
import os
import os.path as osp

import mmengine
from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import CheckpointLoader, Runner
from mmpretrain.utils import get_ori_model

# Importing ccd_mm registers its components in mmpretrain's registries.
import ccd_mm  # noqa: F401
from ccd_mm.engine import (check_class_names, load_classifier_weights,
                           prepare_cpu_distributed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file; trusted://PATH unpickles a file you trust '
        'in full')
    parser.add_argument(
        '--work-dir', help='the dir to save logs and evaluation metrics')
    parser.add_argument('--out', help='file to dump predictions or metrics')
    parser.add_argument(
        '--out-item',
        choices=['metrics', 'pred'],
        help='what --out holds; defaults to predictions')
    parser.add_argument(
        '--ignore-class-names',
        action='store_true',
        help='evaluate a checkpoint whose stored class names differ from '
        'those of the config\'s test split (by default an error)')
    parser.add_argument(
        '--amp', action='store_true', help='test with mixed precision')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs such as '
        'test_dataloader.batch_size=4 or key="[a,b]"; merged last')
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
    if args.out is None and args.out_item is not None:
        parser.error('--out-item needs --out')
    return args


def merge_args(cfg, args):
    """Merge command-line arguments into the config."""
    # See tools/train.py: our components live in mmpretrain's registries.
    cfg.setdefault('default_scope', 'mmpretrain')
    cfg.launcher = args.launcher

    # work_dir: CLI > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        cfg.test_cfg.fp16 = True
    cfg.test_dataloader.setdefault('collate_fn', dict(type='default_collate'))

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    # CHECKPOINT is loaded in main(), every weight checked, not by the runner.
    cfg.load_from = None
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_args(Config.fromfile(args.config), args)
    prepare_cpu_distributed(cfg)
    # Read first: a file that is no checkpoint fails before the datasets
    # and the model are built.
    checkpoint = CheckpointLoader.load_checkpoint(
        args.checkpoint, map_location='cpu')
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    model = get_ori_model(runner.model)
    load_classifier_weights(model, checkpoint, args.checkpoint)
    if not args.ignore_class_names:
        check_class_names(checkpoint, model,
                          runner.test_dataloader.dataset.metainfo['classes'],
                          args.checkpoint, '--ignore-class-names')

    if args.out and args.out_item in ('pred', None):
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if args.out and args.out_item == 'metrics':
        mmengine.dump(metrics, args.out)


if __name__ == '__main__':
    main()
