"""Predict the classes of images with a trained checkpoint.

Prints the top classes with their scores (sigmoid probabilities) per image,
and with ``--out`` writes them to a JSON or CSV file (by extension). The
config comes from ``--config``, else from the checkpoint, where mmengine
stores the training config; images go through the config's test pipeline
(mmpretrain's ``ImageClassificationInferencer``). The checkpoint is read
without running code from it (``trusted://PATH`` unpickles a file you trust
in full), and every weight of the model must come from it.

    python tools/infer.py work_dirs/ccd_shapesml/best_label_free.pth \\
        data/shapesml/images/test --topk 3 --out predictions.csv
"""
import argparse
import contextlib
import csv
import json
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import CheckpointLoader
from mmpretrain.apis import ImageClassificationInferencer, get_model

# Importing ccd_mm registers its components in mmpretrain's registries.
import ccd_mm  # noqa: F401
from ccd_mm.engine import load_classifier_weights

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Top classes of images with a trained checkpoint')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file; trusted://PATH unpickles a file you trust in '
        'full')
    parser.add_argument(
        'images', nargs='+', help='image files and/or folders of images')
    parser.add_argument(
        '--config',
        help='config file; defaults to the config stored in the checkpoint')
    parser.add_argument(
        '--topk', type=int, default=5, help='classes printed per image')
    parser.add_argument(
        '--out', help='write the predictions to a .json or .csv file')
    parser.add_argument(
        '--batch-size', type=int, default=8, help='images per forward')
    parser.add_argument(
        '--device', help='e.g. cpu or cuda:0; defaults to cuda if available')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs; merged last')
    args = parser.parse_args(argv)
    if args.out and not args.out.endswith(('.json', '.csv')):
        parser.error('--out must end with .json or .csv')
    return args


def collect_images(paths):
    """Image files of ``paths``; a folder gives its images, sorted."""
    images = []
    for path in paths:
        if osp.isdir(path):
            images += sorted(
                osp.join(path, name) for name in os.listdir(path)
                if name.lower().endswith(IMAGE_EXTENSIONS))
        elif osp.isfile(path):
            images.append(path)
        else:
            raise FileNotFoundError(f'no image or folder at {path}')
    return images


def build_classifier(args):
    """The classifier with every weight from the checkpoint, and its class
    names; its config is ``--config``, else the one mmengine saved in the
    checkpoint."""
    checkpoint = CheckpointLoader.load_checkpoint(
        args.checkpoint, map_location='cpu', logger='silent')
    meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
    if args.config:
        cfg = Config.fromfile(args.config)
    elif 'cfg' in meta:
        cfg = Config.fromstring(meta['cfg'], '.py')
    else:
        raise ValueError(f'{args.checkpoint} stores no config: pass --config')
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.setdefault('default_scope', 'mmpretrain')
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = get_model(cfg, pretrained=False, device=device)
    load_classifier_weights(model, checkpoint, args.checkpoint)
    return model, meta.get('dataset_meta', {}).get('classes')


def top_classes(result, classes, topk):
    """[(class name, score)] of the ``topk`` best classes of one result."""
    scores = result['pred_scores']
    order = scores.argsort()[::-1][:topk]
    return [(classes[index] if classes else str(index), float(scores[index]))
            for index in order]


def write_predictions(path, predictions):
    """``predictions``: [(image, [(class, score), ...])] to JSON or CSV."""
    if path.endswith('.json'):
        with open(path, 'w') as file:
            json.dump([
                dict(
                    image=image,
                    top=[{
                        'class': name,
                        'score': score
                    } for name, score in top]) for image, top in predictions
            ],
                      file,
                      indent=2)
        return
    with open(path, 'w', newline='') as file:
        writer = csv.writer(file)
        writer.writerow(['image', 'rank', 'class', 'score'])
        for image, top in predictions:
            for rank, (name, score) in enumerate(top, start=1):
                writer.writerow([image, rank, name, f'{score:.6f}'])


def main(argv=None):
    args = parse_args(argv)
    images = collect_images(args.images)
    model, classes = build_classifier(args)
    inferencer = ImageClassificationInferencer(
        model, pretrained=False, classes=classes)
    # mmpretrain draws its progress bar on stdout, without a final newline
    # when stdout is not a terminal: send it to stderr so that stdout holds
    # only the predictions, one line per image.
    with contextlib.redirect_stdout(sys.stderr):
        results = inferencer(images, batch_size=args.batch_size)
    predictions = [(image, top_classes(result, inferencer.classes, args.topk))
                   for image, result in zip(images, results)]
    for image, top in predictions:
        print(f'{image}: ' + ', '.join(f'{name} {score:.3f}'
                                       for name, score in top))
    if args.out:
        write_predictions(args.out, predictions)
        print(f'Predictions written to {args.out}')


if __name__ == '__main__':
    main()
