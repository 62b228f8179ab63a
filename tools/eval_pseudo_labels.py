"""Pseudo-label quality report against the training split's ground truth.

Reads pseudo-labels from FILE, either a label cache
(``tools/make_pseudo_labels.py``) or a training checkpoint (whose table also
holds the CAM label update), without running code from it
(``trusted://PATH`` unpickles a checkpoint you trust in full), and reports
the mAP of the initial (raw CLIP), debiased and updated labels, AP and bias
per class and labels per image, as a table on the terminal and a JSON
file.

This tool is the only place where ccd_mm reads the ground truth of a
training split: training and label-free model selection never do.

    python tools/eval_pseudo_labels.py configs/shapes/ccd_shapesml.py \\
        work_dirs/ccd_shapesml/epoch_4.pth --out report.json
"""
import argparse
import os.path as osp

import mmengine
from mmengine.config import Config, DictAction

# Importing ccd_mm registers its components in mmpretrain's registries.
import ccd_mm  # noqa: F401
from ccd_mm.engine import build_pseudo_label_dataset
from ccd_mm.evaluation import (format_report, load_pseudo_labels,
                               pseudo_label_report, train_ground_truth)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Pseudo-label quality against the training split\'s '
        'ground truth (the only reader of train ground truth)')
    parser.add_argument('config', help='training config file path')
    parser.add_argument(
        'file',
        help='label cache, or training checkpoint (trusted://PATH unpickles '
        'a checkpoint you trust in full)')
    parser.add_argument(
        '--out',
        help='JSON report to write; defaults to FILE without its extension '
        '+ "_report.json"')
    parser.add_argument(
        '--threshold',
        type=float,
        default=0.5,
        help='a label counts as positive at >= threshold (labels per image)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs; merged last')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    dataset = build_pseudo_label_dataset(cfg)
    table, source = load_pseudo_labels(args.file, dataset)
    stages = dataset.target_transform.label_stages(table)
    print(f'Pseudo-labels from {source}. Reading the ground truth of the '
          'training split: only this report does, never training.')
    report = pseudo_label_report(stages, train_ground_truth(dataset),
                                 table.bias, table.valid,
                                 dataset.metainfo['classes'], args.threshold)
    report['source'] = source
    print(format_report(report))
    out = args.out or osp.splitext(args.file)[0] + '_report.json'
    mmengine.dump(report, out, indent=2)
    print(f'Report written to {out}')


if __name__ == '__main__':
    main()
