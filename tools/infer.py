"""Predict the classes of images with a trained checkpoint.

Prints the top classes with their scores (sigmoid probabilities) per image,
one line per image and nothing else on stdout, and with ``--out`` writes
them to a JSON or CSV file (by extension; its folder is created). A folder
stands for its images and those of its subfolders. The config comes from
``--config``, else from the checkpoint, where mmengine stores the training
config. Images are decoded as the config's test pipeline decodes them (its
``LoadImageFromFile``) and go through the rest of that pipeline and the
model's ``test_step``, as in ``tools/test.py``; a config without a test
split (a folder of your own images) gives its ``test_pipeline``. An image
that cannot be decoded is reported on stderr and the others are predicted;
the exit status is then 1. The checkpoint is read without running code from
it (``trusted://PATH`` unpickles a file you trust in full), and every weight
of the model must come from it. The class names stored in the checkpoint
must fit the head and be those of the config's test split, where it has one
(``--ignore-class-names`` prints the config's names instead).

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
from mmcv.transforms import Compose
from mmengine.config import Config, DictAction
from mmengine.dataset import default_collate
from mmengine.runner import CheckpointLoader
from mmpretrain.apis import get_model
from mmpretrain.datasets import remove_transform
from mmpretrain.registry import TRANSFORMS

# Importing ccd_mm registers its components in mmpretrain's registries.
import ccd_mm  # noqa: F401
from ccd_mm.datasets.image_decoder import ImageDecoder, UndecodableImageError
from ccd_mm.engine import (check_class_names, load_classifier_weights,
                           stored_class_names)

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
        '--ignore-class-names',
        action='store_true',
        help='print the class names of the config, not those stored in the '
        'checkpoint, even where they differ (by default an error); class '
        'indices where the config names none')
    parser.add_argument(
        '--topk', type=int, default=5, help='classes printed per image')
    parser.add_argument(
        '--out',
        help='write the predictions to a .json or .csv file (its folder is '
        'created)')
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
    """Image files of ``paths``; a folder gives its images, those of its
    subfolders too, sorted by path.

    Raises:
        SystemExit: no image at all (an empty folder, a folder of other
            files), or a path that does not exist.
    """
    images = []
    for path in paths:
        if osp.isdir(path):
            images += sorted(
                osp.join(folder, name) for folder, _, names in os.walk(path)
                for name in names if name.lower().endswith(IMAGE_EXTENSIONS))
        elif osp.isfile(path):
            images.append(path)
        else:
            sys.exit(f'no image or folder at {path}')
    if not images:
        sys.exit(f'no image files ({" ".join(IMAGE_EXTENSIONS)}) in '
                 f'{" ".join(paths)}')
    return images


def inference_pipeline(cfg):
    """The steps that prepare an image for the model: the test split's, or,
    in a config without a labelled split (a folder of your own images), the
    config's ``test_pipeline``."""
    if cfg.get('test_dataloader') is not None:
        return cfg.test_dataloader.dataset.pipeline
    if cfg.get('test_pipeline') is not None:
        return cfg.test_pipeline
    sys.exit('the config has no test split and no test_pipeline: add '
             "test_pipeline = [dict(type='LoadImageFromFile'), ..., "
             "dict(type='PackInputs')]")


def build_classifier(args):
    """The classifier with every weight from the checkpoint, its config and
    its class names; the config is ``--config``, else the one mmengine saved
    in the checkpoint. The names are those stored in the checkpoint, checked
    against the config's, or with ``--ignore-class-names`` the config's."""
    checkpoint = CheckpointLoader.load_checkpoint(
        args.checkpoint, map_location='cpu', logger='silent')
    meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
    if args.config:
        cfg = Config.fromfile(args.config)
    elif 'cfg' in meta:
        cfg = Config.fromstring(meta['cfg'], '.py')
    else:
        sys.exit(f'{args.checkpoint} stores no config: pass --config')
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.setdefault('default_scope', 'mmpretrain')
    # mmpretrain's get_model reads a test split's dataset where the key is
    # present, even set to None (no labelled split).
    if cfg.get('test_dataloader') is None:
        cfg.pop('test_dataloader', None)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = get_model(cfg, pretrained=False, device=device)
    load_classifier_weights(model, checkpoint, args.checkpoint)
    # mmpretrain's get_model reads them from the test split's dataset type.
    config_classes = getattr(model, '_dataset_meta', {}).get('classes')
    if args.ignore_class_names:
        return model, cfg, config_classes
    check_class_names(checkpoint, model, config_classes, args.checkpoint,
                      '--ignore-class-names')
    return model, cfg, stored_class_names(checkpoint) or config_classes


def split_test_pipeline(cfg):
    """(decoder, the rest of the test pipeline) of a config."""
    steps = inference_pipeline(cfg)
    loading = [
        TRANSFORMS.build(step) for step in steps
        if step['type'] == 'LoadImageFromFile'
    ]
    rest = remove_transform(steps, 'LoadImageFromFile')
    return (ImageDecoder.from_pipeline(loading),
            Compose([TRANSFORMS.build(step) for step in rest]))


@torch.no_grad()
def predict(model, cfg, images, batch_size):
    """Yield ``(image, scores, None)`` or ``(image, None, reason)`` per
    image, in order; images are decoded a batch at a time."""
    decoder, pipeline = split_test_pipeline(cfg)
    model.eval()
    for start in range(0, len(images), batch_size):
        outcomes, samples = [], []
        for image in images[start:start + batch_size]:
            try:
                pixels = decoder.bgr(image)
            except UndecodableImageError as error:
                outcomes.append((image, None, str(error)))
                continue
            samples.append(
                pipeline(
                    dict(
                        img=pixels,
                        img_shape=pixels.shape[:2],
                        ori_shape=pixels.shape[:2],
                        img_path=image)))
            outcomes.append((image, len(samples) - 1, None))
        results = model.test_step(default_collate(samples)) if samples \
            else []
        for image, position, reason in outcomes:
            scores = None if reason else results[position].pred_score.cpu()
            yield image, scores, reason


def top_classes(scores, classes, topk):
    """[(class name, score)] of the ``topk`` best classes of one image."""
    order = scores.argsort(descending=True)[:topk].tolist()
    return [(classes[index] if classes else str(index), float(scores[index]))
            for index in order]


def write_predictions(path, predictions):
    """``predictions``: [(image, [(class, score), ...])] to JSON or CSV."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
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
    # Building the model may print; stdout holds the predictions only.
    with contextlib.redirect_stdout(sys.stderr):
        model, cfg, classes = build_classifier(args)
    predictions, failed = [], []
    for image, scores, reason in predict(model, cfg, images, args.batch_size):
        if reason is not None:
            failed.append(image)
            print(f'skipped: {reason}', file=sys.stderr)
            continue
        top = top_classes(scores, classes, args.topk)
        predictions.append((image, top))
        print(f'{image}: ' + ', '.join(f'{name} {score:.3f}'
                                       for name, score in top))
    if args.out:
        write_predictions(args.out, predictions)
        print(f'Predictions written to {args.out}', file=sys.stderr)
    if failed:
        sys.exit(f'{len(failed)} of {len(images)} images could not be '
                 f'decoded: {", ".join(failed)}')


if __name__ == '__main__':
    main()
