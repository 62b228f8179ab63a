"""Pictures of a CCD run, as PNG files.

``boxes``: the CAM boxes chosen at a label update, drawn over their images
with class names and the teacher's crop scores. The records come from
``cam_boxes_epoch_{e}.json``, which ``CAMLabelUpdateHook(record_boxes=N)``
writes to the work dir during the update::

    python tools/visualize.py boxes \\
        work_dirs/ccd_shapesml/cam_boxes_epoch_3.json --out-dir vis/

``labels``: a bar chart of the class bias (``class_bias.png``) and
histograms of the pseudo-label values before and after debias and update
(``label_histogram.png``), from a label cache or a training checkpoint
(``trusted://PATH`` unpickles a checkpoint you trust in full)::

    python tools/visualize.py labels configs/shapes/ccd_shapesml.py \\
        work_dirs/ccd_shapesml/epoch_4.pth --out-dir vis/
"""
import argparse
import json
import os
import os.path as osp

from mmengine.config import Config, DictAction
from PIL import Image

# Importing ccd_mm registers its components in mmpretrain's registries.
import ccd_mm  # noqa: F401
from ccd_mm.engine import build_pseudo_label_dataset
from ccd_mm.evaluation import load_pseudo_labels
from ccd_mm.visualization import (draw_cam_boxes, plot_class_bias,
                                  plot_label_histograms)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Draw a CCD run as PNGs')
    commands = parser.add_subparsers(dest='command', required=True)
    boxes = commands.add_parser(
        'boxes', help='CAM boxes of a label update over their images')
    boxes.add_argument('records', help='cam_boxes_epoch_{e}.json')
    boxes.add_argument('--out-dir', required=True, help='folder for PNGs')
    boxes.add_argument(
        '--num-images', type=int, default=8, help='images to draw at most')
    boxes.add_argument(
        '--display-size',
        type=int,
        default=512,
        help='longer side of a drawing in pixels')
    labels = commands.add_parser(
        'labels', help='class bias bar chart and pseudo-label histograms')
    labels.add_argument('config', help='training config file path')
    labels.add_argument(
        'file',
        help='label cache, or training checkpoint (trusted://PATH '
        'unpickles a checkpoint you trust in full)')
    labels.add_argument('--out-dir', required=True, help='folder for PNGs')
    labels.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs; merged last')
    return parser.parse_args(argv)


def draw_boxes(args):
    with open(args.records) as file:
        content = json.load(file)
    stem = osp.splitext(osp.basename(args.records))[0]
    written = []
    for index, record in enumerate(content['records'][:args.num_images]):
        drawing = draw_cam_boxes(record, content['classes'], args.display_size)
        path = osp.join(args.out_dir, f'{stem}_{index}.png')
        Image.fromarray(drawing).save(path)
        written.append(path)
    return written


def draw_labels(args):
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    dataset = build_pseudo_label_dataset(cfg)
    table, _ = load_pseudo_labels(args.file, dataset)
    stages = dataset.target_transform.label_stages(table)
    bias_file = osp.join(args.out_dir, 'class_bias.png')
    plot_class_bias(table.bias, dataset.metainfo['classes'], bias_file)
    histogram_file = osp.join(args.out_dir, 'label_histogram.png')
    plot_label_histograms(
        {
            name: labels[table.valid]
            for name, labels in stages.items()
        }, histogram_file)
    return [bias_file, histogram_file]


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    written = draw_boxes(args) if args.command == 'boxes' else draw_labels(
        args)
    for path in written:
        print(f'Wrote {path}')


if __name__ == '__main__':
    main()
