"""Train the tiny CLIP teacher of the ShapesML demo on the CPU.

The teacher is an ordinary open_clip model (a small ModifiedResNet image
tower and a transformer text tower, shaped by
``configs/shapes/teacher/shapesml-clip-rn.json``) trained with CLIP's
contrastive loss on image-caption pairs from its own ShapesML generator
stream, never from the splits the method is evaluated on (CLIP never saw VOC
either):

* single objects and crops around one object of a scene, captioned with the
  prompt template, ``'a photo of the star.'``; a share of the crops
  (``--cut-share``, default 0.75) cut as a CAM box that stops short of its
  object cuts it: the object's box grown by up to ``--cut-offset`` px, then
  up to ``--max-cut`` of its width or height cut away at one edge, still
  captioned with the object's class, to teach the teacher to read a
  truncated object as real CLIP does (the default since ShapesML 1.2, whose
  classes are not what a cut leaves of another; docs/results.md);
* whole scenes captioned the way web captions are: they name the objects in
  size order, always the largest and each smaller one with probability
  (its box area / the largest box area) ** ``--salience`` (default 1), so a
  small object is often left out; a caption that names several objects is a
  positive of each of their prompts (a multi-positive contrastive loss, as
  UniCL's), and the objects it leaves out are negatives;
* the objects of scenes and crops drawn from a Zipf law over the classes,
  so the teacher learns an uneven class prior (the CLIP bias of CCD Sec.
  3.3); the isolated objects, which teach the shapes, uniformly
  (``--object-zipf 0``): drawn from the Zipf law as well, a rare shape was
  told from a frequent look-alike late or never (arrow from triangle), and
  whether it was by the end of the schedule depended on the float kernels
  of the machine.

This reproduces the failure mode CCD exploits (CCD Sec. 1, 3.2): on a whole
multi-object scene the softmax over class prompts is dominated by the most
salient object; on a crop around one object it is accurate. The checkpoint is
a plain ``state_dict`` that ``CLIPTeacher`` loads by path exactly as it loads
real CLIP weights; ``train_report.json`` next to it records the arguments and
a held-out check on a stream of its own, the same for every seed. The same
seed, thread count and CPU give the same weights; another CPU or thread
count takes another path.

Example::

    python tools/shapesml/train_teacher.py --out work_dirs/shapesml_teacher \
        --seed 0
"""
import argparse
import json
import math
import os
import os.path as osp
import time
from typing import Iterator, List, Sequence, Tuple

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, IterableDataset

from ccd_mm.datasets.shapesml_generator import (SHAPESML_CLASSES,
                                                SHAPESML_VERSION,
                                                render_object, render_scene)
from ccd_mm.labeling import BOX_EDGES, cut_boxes
from ccd_mm.structures import image_to_tensor
from ccd_mm.teachers import CLIPTeacher
from ccd_mm.teachers.clip_checkpoint import create_model_without_weights
from ccd_mm.teachers.clip_teacher import NORMALIZATIONS

MODEL_NAME = 'shapesml-clip-rn'
MODEL_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'shapes', 'teacher', f'{MODEL_NAME}.json')
PROMPT = 'a photo of the {}.'
# CLIP clamps its learned temperature at 100 (Radford et al. 2021, Sec. 2.5).
MAX_LOGIT_SCALE = math.log(100)
HELD_OUT_ENTROPY = (0, 1)


def zipf_class_probs(exponent: float,
                     num_classes: int = len(SHAPESML_CLASSES)):
    """Class frequencies ``p_k ~ 1 / k**exponent`` in class-index order
    (an ``np.ndarray``)."""
    weights = 1. / np.arange(1, num_classes + 1)**exponent
    return weights / weights.sum()


def caption_labels(rng: np.random.Generator, objects: Sequence[dict],
                   salience: float) -> List[int]:
    """The objects a web caption names, in size order: always the largest,
    and each smaller one with probability (its box area / the largest box
    area) ** ``salience``; 0 names every object, large values only the
    largest."""
    areas = np.array([(x2 - x1) * (y2 - y1)
                      for x1, y1, x2, y2 in (o['bbox'] for o in objects)],
                     dtype=np.float64)
    order = np.argsort(-areas, kind='stable')
    named = rng.uniform(size=len(objects)) < (areas[order] /
                                              areas[order[0]])**salience
    named[0] = True
    return [objects[i]['label'] for i in order[named]]


def object_crop_box(rng: np.random.Generator, bbox: Sequence[int],
                    image_side: int,
                    max_margin: float) -> Tuple[int, int, int, int]:
    """A square box around one object, as CCD crops a CAM box grown by an
    offset (CCD Sec. 3.2): the longer box side plus a margin of up to
    ``max_margin`` of the image side on each side, kept inside the image.

    Returns:
        tuple: ``(x1, y1, x2, y2)``, x2/y2 exclusive.
    """
    x1, y1, x2, y2 = bbox
    margin = rng.uniform(0, max_margin) * image_side
    side = min(round(max(x2 - x1, y2 - y1) + 2 * margin), image_side)
    left = int(np.clip(round((x1 + x2 - side) / 2), 0, image_side - side))
    top = int(np.clip(round((y1 + y2 - side) / 2), 0, image_side - side))
    return left, top, left + side, top + side


def cut_object_box(rng: np.random.Generator, bbox: Sequence[int],
                   image_side: int, max_offset: float,
                   max_cut: float) -> Tuple[int, int, int, int]:
    """The box of a CAM that stops short of its object: the object's box
    grown by up to ``max_offset`` px on each side (CAM boxes grow by the
    configs' ``box_offset``) and kept inside the image, then a share of up
    to ``max_cut`` of its width or height cut away at a random edge
    (:func:`~ccd_mm.labeling.cut_boxes`).

    Returns:
        tuple: ``(x1, y1, x2, y2)``, x2/y2 exclusive.
    """
    box = torch.tensor([bbox], dtype=torch.float)
    box[:, :2] -= torch.from_numpy(rng.uniform(0, max_offset, 2)).float()
    box[:, 2:] += torch.from_numpy(rng.uniform(0, max_offset, 2)).float()
    box = cut_boxes(
        box.clamp(0, image_side), rng.uniform(0, max_cut),
        torch.tensor([rng.integers(len(BOX_EDGES))]))
    x1, y1, x2, y2 = box[0].round().long().tolist()
    return x1, y1, max(x2, x1 + 1), max(y2, y1 + 1)


class CaptionedShapes(IterableDataset):
    """Endless ShapesML image-caption pairs from their own random stream.

    Three kinds of pairs, rendered at ``render_size`` (ShapesML's image
    side): a single object filling most of the image (``render_object``); a
    crop around one object of a scene (:func:`object_crop_box`, or for a
    ``cut_share`` of them :func:`cut_object_box`), as the crops CCD labels;
    a whole scene, captioned with the objects a web caption names
    (:func:`caption_labels`). The isolated objects teach the shapes
    fast, the crops add the scales and neighbours of CCD's crops. The image
    is resized to the model's ``image_size`` with bicubic filtering, as the
    teacher's views are. Items are ``(image (3, S, S) float in [0, 1],
    named (C,) float)``, ``named`` 1 for every class the caption names; a
    class's caption is ``PROMPT.format(SHAPESML_CLASSES[c])``. Iterate it from
    one process (``num_workers`` 0 or 1) so the stream is a function of the
    seed alone.

    Args:
        seed (int): seed of the stream.
        render_size (int): side of the rendered scenes.
        image_size (int): side of the images handed to the model.
        class_probs (Sequence[float]): class frequencies of the objects of
            scenes and crops.
        object_class_probs (Sequence[float]): class frequencies of the
            isolated objects.
        object_fraction (float): share of isolated objects among the pairs.
        scene_fraction (float): share of whole scenes; the rest are crops.
        salience (float): exponent of :func:`caption_labels`.
        max_margin (float): largest crop margin, see :func:`object_crop_box`.
        cut_share (float): share of the crops cut, see
            :func:`cut_object_box`. Defaults to 0.
        cut_offset (float): largest growth of a cut crop's box in px.
            Defaults to 16.
        max_cut (float): largest share of a cut crop's box cut away.
            Defaults to 0.6.
    """

    def __init__(self,
                 seed: int,
                 render_size: int,
                 image_size: int,
                 class_probs: Sequence[float],
                 object_class_probs: Sequence[float],
                 object_fraction: float,
                 scene_fraction: float,
                 salience: float,
                 max_margin: float,
                 cut_share: float = 0.,
                 cut_offset: float = 16.,
                 max_cut: float = 0.6):
        self.seed = seed
        self.render_size = render_size
        self.image_size = image_size
        self.class_probs = np.asarray(class_probs, dtype=np.float64)
        self.object_class_probs = np.asarray(
            object_class_probs, dtype=np.float64)
        self.object_fraction = object_fraction
        self.scene_fraction = scene_fraction
        self.salience = salience
        self.max_margin = max_margin
        self.cut_share = cut_share
        self.cut_offset = cut_offset
        self.max_cut = max_cut

    def __iter__(self) -> Iterator[Tuple[Tensor, int]]:
        # Entropy [seed, 0]: a stream of its own, apart from the ShapesML
        # splits (children of SeedSequence(seed)) and the held-out check.
        rng = np.random.default_rng([self.seed, 0])
        while True:
            kind = rng.uniform()
            if kind < self.object_fraction:
                label = int(
                    rng.choice(
                        len(self.object_class_probs),
                        p=self.object_class_probs))
                image = render_object(rng, label, self.render_size)
                yield self._view(image), self._named([label])
                continue
            image, objects = render_scene(rng, self.render_size,
                                          self.class_probs)
            if kind < self.object_fraction + self.scene_fraction:
                labels = caption_labels(rng, objects, self.salience)
            else:
                obj = objects[rng.integers(len(objects))]
                # No draw without cut crops: cut_share 0 keeps the stream
                # of the recipe before them.
                if self.cut_share and rng.uniform() < self.cut_share:
                    box = cut_object_box(rng, obj['bbox'], self.render_size,
                                         self.cut_offset, self.max_cut)
                else:
                    box = object_crop_box(rng, obj['bbox'], self.render_size,
                                          self.max_margin)
                image = image.crop(box)
                labels = [obj['label']]
            yield self._view(image), self._named(labels)

    def _named(self, labels: Sequence[int]) -> Tensor:
        named = torch.zeros(len(self.class_probs))
        named[list(labels)] = 1
        return named

    def _view(self, image: Image.Image) -> Tensor:
        return image_to_tensor(
            image.resize((self.image_size, ) * 2, Image.BICUBIC))


def caption_contrastive_loss(image_features: Tensor, text_features: Tensor,
                             described: Tensor, logit_scale: Tensor) -> Tensor:
    """CLIP's symmetric contrastive loss with duplicate captions merged.

    Many images of a batch share a caption; CLIP's loss (Radford et al.
    2021, Fig. 3) would treat the copies as negatives of each other. As in
    UniCL (Yang et al., CVPR 2022) the texts are the batch's distinct class
    prompts: each image must pick the prompts its caption names (a uniform
    target over them), and each prompt the images it describes (a uniform
    target over them).

    Args:
        image_features (Tensor): ``(B, D)`` L2-normalised image embeddings.
        text_features (Tensor): ``(T, D)`` L2-normalised embeddings of the
            distinct captions.
        described (Tensor): ``(B, T)`` 1 where the image's caption names
            the prompt's class; every image names one prompt at least, and
            every prompt describes one image at least.
        logit_scale (Tensor): the temperature, already exponentiated.
    """
    logits = logit_scale * image_features @ text_features.T
    image_loss = -(described * logits.log_softmax(dim=1)).sum(dim=1) / \
        described.sum(dim=1)
    text_loss = -(described * logits.log_softmax(dim=0)).sum(dim=0) / \
        described.sum(dim=0)
    return (image_loss.mean() + text_loss.mean()) / 2


def learning_rate(step: int, steps: int, peak: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to zero (CLIP's schedule)."""
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * 0.5 * (1 +
                         math.cos(math.pi *
                                  (step - warmup) / max(1, steps - warmup)))


def build_optimizer(model: torch.nn.Module, lr: float,
                    weight_decay: float) -> torch.optim.AdamW:
    """AdamW; as in CLIP, gains, biases, embeddings and the temperature are
    not decayed."""
    decayed, kept = [], []
    for name, param in model.named_parameters():
        no_decay = (
            param.ndim < 2 or 'embedding' in name or 'logit_scale' in name)
        (kept if no_decay else decayed).append(param)
    return torch.optim.AdamW([
        dict(params=decayed, weight_decay=weight_decay),
        dict(params=kept, weight_decay=0.)
    ],
                             lr=lr,
                             betas=(0.9, 0.98),
                             eps=1e-6)


def start_residual_branches(visual: torch.nn.Module) -> None:
    """Give the residual branches of the image tower unit gain.

    open_clip zero-initialises the last BatchNorm of every bottleneck, a good
    start for deep ResNets. With one block per stage the tower then starts
    as 1x1 convolutions on pooled features and learned its shapes about
    twice as slowly in our CPU budget.
    """
    for name, module in visual.named_modules():
        if name.endswith('bn3'):
            torch.nn.init.ones_(module.weight)


def train(args: argparse.Namespace) -> Tuple[torch.nn.Module, List[float]]:
    """Train the teacher; return the model (eval mode) and per-step losses."""
    torch.manual_seed(args.seed)
    open_clip.add_model_config(MODEL_CONFIG)
    model = create_model_without_weights(MODEL_NAME)
    start_residual_branches(model.visual)
    # channels_last runs the CPU convolutions about 30% faster.
    model.visual.to(memory_format=torch.channels_last)
    tokenizer = open_clip.get_tokenizer(MODEL_NAME)
    prompts = tokenizer([PROMPT.format(name) for name in SHAPESML_CLASSES])
    pairs = CaptionedShapes(args.seed, args.render_size, native_size(model),
                            zipf_class_probs(args.zipf),
                            zipf_class_probs(args.object_zipf),
                            args.object_fraction, args.scene_fraction,
                            args.salience, args.max_margin, args.cut_share,
                            args.cut_offset, args.max_cut)
    loader = DataLoader(
        pairs, batch_size=args.batch_size, num_workers=args.workers)
    optimizer = build_optimizer(model, args.lr, args.weight_decay)
    # The pixels CLIPTeacher feeds the model (its 'clip' preset).
    mean, std = (torch.tensor(v).view(3, 1, 1) for v in NORMALIZATIONS['clip'])
    warmup = max(1, int(args.warmup * args.steps))
    losses, start = [], time.time()
    model.train()
    for step, (images, named) in zip(range(args.steps), loader):
        for group in optimizer.param_groups:
            group['lr'] = learning_rate(step, args.steps, args.lr, warmup)
        captions = named.any(dim=0).nonzero()[:, 0]
        described = named[:, captions]
        pixels = ((images - mean) /
                  std).contiguous(memory_format=torch.channels_last)
        image_features = F.normalize(model.encode_image(pixels), dim=-1)
        text_features = F.normalize(
            model.encode_text(prompts[captions]), dim=-1)
        loss = caption_contrastive_loss(image_features, text_features,
                                        described, model.logit_scale.exp())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
        losses.append(loss.item())
        if (step + 1) % args.log_interval == 0 or step + 1 == args.steps:
            top1 = (image_features @ text_features.T).argmax(dim=1)
            accuracy = described.gather(1, top1[:, None]).mean()
            print(
                f'step {step + 1}/{args.steps} loss {loss.item():.3f} '
                f'batch accuracy {accuracy:.2f} '
                f'scale {model.logit_scale.exp().item():.1f} '
                f'{time.time() - start:.0f}s',
                flush=True)
        if args.max_minutes and time.time() - start > 60 * args.max_minutes:
            print(f'stopped at the {args.max_minutes} min limit after '
                  f'{step + 1} steps (the result now depends on speed)')
            break
    return model.to(memory_format=torch.contiguous_format).eval(), losses


def native_size(model: torch.nn.Module) -> int:
    """Side of the square input the image tower was built for."""
    size = model.visual.image_size
    return size if isinstance(size, int) else size[0]


@torch.no_grad()
def held_out_check(checkpoint: str, render_size: int, num_images: int) -> dict:
    """Load the checkpoint through ``CLIPTeacher`` (the project's path) and
    measure, on a uniform-class stream of its own at the native input size,
    single-object accuracy and how often a scene's top-1 class is present.

    The stream is the same for every seed (``HELD_OUT_ENTROPY``, apart from
    every training stream ``[seed, 0]``), so that teachers of different
    seeds are scored on the same images.
    """
    teacher = CLIPTeacher(
        MODEL_NAME,
        checkpoint,
        SHAPESML_CLASSES,
        model_config=MODEL_CONFIG,
        device='cpu')
    size = native_size(teacher.clip)
    rng = np.random.default_rng(HELD_OUT_ENTROPY)

    def view(image: Image.Image) -> Tensor:
        return image_to_tensor(image.resize((size, size), Image.BICUBIC))

    labels = torch.arange(num_images) % len(SHAPESML_CLASSES)
    crops = [view(render_object(rng, int(c), render_size)) for c in labels]
    scenes = [render_scene(rng, render_size) for _ in range(num_images)]
    crop_top1 = teacher(torch.stack(crops)).argmax(dim=1)
    scene_top1 = teacher(torch.stack([view(i) for i, _ in scenes])).argmax(1)
    present = [
        top in {o['label']
                for o in objects}
        for top, (_, objects) in zip(scene_top1.tolist(), scenes)
    ]
    return dict(
        crop_accuracy=crop_top1.eq(labels).float().mean().item(),
        scene_top1_present=float(np.mean(present)))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train the tiny ShapesML CLIP teacher (open_clip)')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument(
        '--max-minutes',
        type=float,
        default=0.,
        help='stop early after this many minutes (0: never); a stop makes '
        'the weights depend on the machine speed')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument(
        '--render-size',
        type=int,
        default=128,
        help='side pairs are rendered at (ShapesML images are 128 px) '
        'before resizing to the model input')
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--weight-decay', type=float, default=0.1)
    parser.add_argument(
        '--warmup', type=float, default=0.05, help='share of warm-up steps')
    parser.add_argument(
        '--object-fraction',
        type=float,
        default=0.3,
        help='share of isolated single objects among the training pairs')
    parser.add_argument(
        '--scene-fraction',
        type=float,
        default=0.5,
        help='share of whole scenes; the rest are crops around an object')
    parser.add_argument(
        '--salience',
        type=float,
        default=1.,
        help='a scene caption names the largest object and each smaller '
        'one with probability (area / largest area) ** salience')
    parser.add_argument(
        '--max-margin',
        type=float,
        default=0.2,
        help='largest crop margin per side, as a share of the image side')
    parser.add_argument(
        '--cut-share',
        type=float,
        default=0.75,
        help='share of the crops cut as a CAM box that stops short of its '
        'object cuts it; 0: none, the recipe of the ShapesML 1.1 figures '
        '(docs/results.md)')
    parser.add_argument(
        '--cut-offset',
        type=float,
        default=16.,
        help='a cut crop\'s box grows by up to this many px per side, as '
        'the configs\' CAM boxes grow by box_offset')
    parser.add_argument(
        '--max-cut',
        type=float,
        default=0.6,
        help='largest share of a cut crop\'s box width or height cut away '
        'at one edge')
    parser.add_argument(
        '--zipf',
        type=float,
        default=1.,
        help='class frequencies of the objects of scenes and crops ~ '
        '1 / rank ** zipf (0: uniform)')
    parser.add_argument(
        '--object-zipf',
        type=float,
        default=0.,
        help='the same for the isolated objects (0: uniform)')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch threads; the weights are reproducible for a fixed count')
    parser.add_argument(
        '--workers',
        type=int,
        default=1,
        choices=(0, 1),
        help='render in the main process (0) or in one worker (1)')
    parser.add_argument(
        '--check-images',
        type=int,
        default=600,
        help='held-out objects, and scenes, of the final check (0: skip it)')
    parser.add_argument('--log-interval', type=int, default=50)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    start = time.time()
    model, losses = train(args)
    train_seconds = time.time() - start
    checkpoint = osp.join(args.out, f'{MODEL_NAME}.pt')
    torch.save(model.state_dict(), checkpoint)
    check = held_out_check(checkpoint, args.render_size,
                           args.check_images) if args.check_images else {}
    report = dict(
        args=vars(args),
        shapesml_version=SHAPESML_VERSION,
        model_name=MODEL_NAME,
        model_config=MODEL_CONFIG,
        steps_done=len(losses),
        final_loss=float(np.mean(losses[-10:])),
        logit_scale=model.logit_scale.exp().item(),
        train_seconds=round(train_seconds, 1),
        **check)
    with open(osp.join(args.out, 'train_report.json'), 'w') as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report))
    return report


if __name__ == '__main__':
    main()
