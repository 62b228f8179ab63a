"""Pretrain the ShapesML classifier's backbone on labelled single objects:
ShapesML's stand-in for the ImageNet initialisation of CCD's ResNet-101
(CCD 4.1).

CCD fine-tunes a backbone that already knows what objects look like. A
backbone trained from scratch on a few thousand pseudo-labelled scenes stays
near chance for the whole short schedule (docs/results.md): no class then
reaches the CAM threshold, no crop is proposed, and every classifier-guided
step of the method is measured where it cannot work. This tool trains the
backbone of a ShapesML config (by default the demo's quarter-width
ResNet-18) with cross-entropy on single-object images rendered from the
generator's own stream (seed entropy ``[seed, 2]``), never from the ShapesML
splits, whose labels the method must not see: like ImageNet, labelled
single objects of the same visual world. It saves an mmengine-style
checkpoint (tensors only) that the config loads with
``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
Deterministic from a seed for a given thread count.

    python tools/shapesml/pretrain_backbone.py \\
        --out work_dirs/shapesml_backbone/resnet18-quarter.pth --seed 0
"""
import argparse
import json
import os
import os.path as osp
import time
from typing import Iterator, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.registry import MODELS
from torch import Tensor, nn
from torch.utils.data import DataLoader, IterableDataset

# Importing ccd_mm registers its components in mmpretrain's registries.
import ccd_mm  # noqa: F401
from ccd_mm.datasets.shapesml_generator import (SHAPESML_CLASSES,
                                                SHAPESML_VERSION,
                                                render_object)
from ccd_mm.structures import image_to_tensor

DEFAULT_CONFIG = 'configs/shapes/ccd_shapesml.py'


class LabelledObjects(IterableDataset):
    """Endless ``(image (3, S, S) in [0, 1], class index)`` pairs of single
    objects of uniformly drawn classes, from the stream ``[seed, stream]``.

    Args:
        seed (int): Seed of the stream.
        stream (int): Which stream of that seed (2 trains, 3 is held out).
        image_size (int): Side of the images.
    """

    def __init__(self, seed: int, stream: int, image_size: int):
        self.seed = seed
        self.stream = stream
        self.image_size = image_size

    def __iter__(self) -> Iterator[Tuple[Tensor, int]]:
        rng = np.random.default_rng([self.seed, self.stream])
        while True:
            label = int(rng.integers(len(SHAPESML_CLASSES)))
            yield image_to_tensor(render_object(rng, label,
                                                self.image_size)), label


class ObjectClassifier(nn.Module):
    """The config's backbone with global average pooling and a linear
    layer over the ShapesML classes (dropped after pretraining)."""

    def __init__(self, backbone_cfg: dict, in_channels: int, mean: Tensor,
                 std: Tensor):
        super().__init__()
        self.backbone = MODELS.build(dict(backbone_cfg, init_cfg=None))
        self.fc = nn.Linear(in_channels, len(SHAPESML_CLASSES))
        # The config's data preprocessor normalises 0-255 RGB.
        self.register_buffer('mean', mean.view(1, 3, 1, 1) / 255)
        self.register_buffer('std', std.view(1, 3, 1, 1) / 255)

    def forward(self, images: Tensor) -> Tensor:
        feats = self.backbone((images - self.mean) / self.std)[-1]
        return self.fc(feats.mean(dim=(2, 3)))


def held_out_accuracy(model: ObjectClassifier, seed: int, image_size: int,
                      num_images: int) -> float:
    """Accuracy on single objects of the held-out stream ``[seed, 3]``."""
    objects = iter(LabelledObjects(seed, 3, image_size))
    images, labels = zip(*(next(objects) for _ in range(num_images)))
    model.eval()
    with torch.no_grad():
        logits = torch.cat([
            model(torch.stack(images[i:i + 64]))
            for i in range(0, num_images, 64)
        ])
    model.train()
    return float((logits.argmax(1) == torch.tensor(labels)).float().mean())


def save_backbone(model: ObjectClassifier, path: str, meta: dict) -> None:
    """Write the backbone weights under the ``backbone.`` prefix, atomically
    (temp file + rename), and ``meta`` to ``path + '.json'`` (the demo reads
    the world version there without loading the weights)."""
    state = {
        f'backbone.{name}': value
        for name, value in model.backbone.state_dict().items()
    }
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp'
    torch.save(dict(state_dict=state, meta=meta), tmp)
    os.replace(tmp, path)
    with open(f'{path}.json', 'w') as file:
        json.dump(meta, file, indent=2)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Pretrain a ShapesML config\'s backbone on labelled '
        'single objects (the ImageNet stand-in)')
    parser.add_argument('--out', required=True, help='checkpoint to write')
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='config whose model.backbone, head in_channels and data '
        'preprocessor mean/std are used')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--steps', type=int, default=600)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument(
        '--image-size', type=int, default=128, help='ShapesML image side')
    parser.add_argument(
        '--eval-images',
        type=int,
        default=256,
        help='held-out objects for the accuracy in the report')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch threads (results are reproducible per thread count)')
    args = parser.parse_args(argv)
    if args.eval_images < 1:
        parser.error('--eval-images must be at least 1: the report and the '
                     'demo quote the held-out accuracy')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = Config.fromfile(args.config)
    model = ObjectClassifier(cfg.model.backbone, cfg.model.head.in_channels,
                             torch.tensor(cfg.data_preprocessor.mean),
                             torch.tensor(cfg.data_preprocessor.std))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    # One worker renders while the main process trains; a single worker
    # keeps the stream a function of the seed alone.
    loader = DataLoader(
        LabelledObjects(args.seed, 2, args.image_size),
        batch_size=args.batch_size,
        num_workers=1)
    start = time.time()
    for step, (images, labels) in enumerate(loader, 1):
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0 or step == args.steps:
            print(
                f'step {step}/{args.steps} loss {loss.item():.3f} '
                f'{time.time() - start:.0f} s',
                flush=True)
        if step == args.steps:
            break
    report = dict(
        shapesml_version=SHAPESML_VERSION,
        config=args.config,
        seed=args.seed,
        steps=args.steps,
        batch_size=args.batch_size,
        threads=args.threads,
        seconds=round(time.time() - start, 1),
        held_out_accuracy=held_out_accuracy(model, args.seed, args.image_size,
                                            args.eval_images))
    save_backbone(model, args.out, report)
    print(json.dumps(report))
    return report


if __name__ == '__main__':
    main()
