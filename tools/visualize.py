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

``dense``: the config's teacher's dense class scores (one pass, MaskCLIP's
value path) of each image's global view, beside the view, for the classes
of the highest fused scores (``dense_fusion``), as ``dense_{stem}.png``::

    python tools/visualize.py dense configs/shapes/ccd_shapesml.py \\
        data/shapesml/images/train/000000.png --out-dir vis/
"""
import argparse
import json
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmpretrain.registry import MODELS
from PIL import Image

# Importing ccd_mm registers its components in mmpretrain's registries.
import ccd_mm  # noqa: F401
from ccd_mm.core import fuse_global_and_dense
from ccd_mm.engine import build_pseudo_label_dataset
from ccd_mm.engine.teacher_config import resolve_teacher_config
from ccd_mm.evaluation import load_pseudo_labels
from ccd_mm.labeling import GlobalViewDataset
from ccd_mm.visualization import (draw_cam_boxes, plot_class_bias,
                                  plot_dense_maps, plot_label_histograms)


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
    dense = commands.add_parser(
        'dense', help="the teacher's dense class scores beside the image")
    dense.add_argument('config', help='training config file path')
    dense.add_argument('images', nargs='+', help='image files')
    dense.add_argument('--out-dir', required=True, help='folder for PNGs')
    dense.add_argument(
        '--view-size',
        type=int,
        help='side of the teacher\'s square view; default: the initial-'
        'label hook\'s view_size')
    dense.add_argument(
        '--top-k',
        type=int,
        default=3,
        help='classes drawn per image: the k highest fused scores')
    for command in (labels, dense):
        command.add_argument(
            '--cfg-options',
            nargs='+',
            action=DictAction,
            help='override config settings, key=value pairs; merged last')
    return parser.parse_args(argv)


def load_config(args) -> Config:
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


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
    cfg = load_config(args)
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


def draw_dense(args):
    cfg = load_config(args)
    dataset = build_pseudo_label_dataset(cfg)
    hook = cfg.default_hooks.initial_labels
    teacher = MODELS.build(
        dataset.teacher_config(
            resolve_teacher_config(hook.get('teacher'), cfg)))
    views = GlobalViewDataset(args.images, args.view_size or hook.view_size)
    written = []
    for index, path in enumerate(args.images):
        view = views[index][1]
        if view is None:
            raise ValueError(f'{path} could not be decoded')
        global_probs, dense_probs = teacher.global_and_dense_probs(view[None])
        fused = fuse_global_and_dense(global_probs, dense_probs)[0]
        out_file = osp.join(
            args.out_dir, f'dense_{osp.splitext(osp.basename(path))[0]}.png')
        plot_dense_maps(
            view.permute(1, 2, 0).numpy(), dense_probs[0].cpu(),
            global_probs[0].cpu(), dataset.metainfo['classes'],
            fused.topk(min(args.top_k, len(fused))).indices.tolist(), out_file)
        written.append(out_file)
    return written


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    draw = dict(boxes=draw_boxes, labels=draw_labels, dense=draw_dense)
    written = draw[args.command](args)
    for path in written:
        print(f'Wrote {path}')


if __name__ == '__main__':
    main()
