"""ShapesML: a generated multi-label world of vivid shapes on cluttered grey.

Pure numpy + PIL (no mm imports) so the generator runs anywhere. Every
scene has 1-4 objects of distinct classes; usually one is large and the
others small, which reproduces CLIP's typical multi-label failure (the
softmax over a whole scene is dominated by the most salient object, while a
crop around one object is classified well).

Design choices that the tests and later stages rely on:

* Objects are vivid (HSV saturation and value high), background and clutter
  are nearly grey, so an object's pixels are exactly the saturated ones and
  its box can be checked from the image alone.
* Shapes are polygons in a unit frame, rotated and scaled, drawn at 2x and
  box-downsampled for anti-aliasing; boxes come from the transformed polygon,
  so they are tight.
* Rotation is limited for classes that would otherwise turn into another
  class (a square rotated 45 degrees is a diamond) or look unnatural.

Small objects span 0.2-0.35 of the image side and a scene holds 1-4 objects
(probabilities 0.4 / 0.35 / 0.15 / 0.1, 1.95 on average): at these sizes the
global view of the tiny CLIP teacher (``tools/shapesml/train_teacher.py``)
scores about 10 mAP points below the crop oracle and misses small objects far
more often than large ones, as real CLIP does (``docs/results.md``).
"""
import colorsys
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

SHAPESML_VERSION = '1.2'

# No class is what a box edge leaves of another (version 1.1 had a
# semicircle, a crescent and a triangle: half a circle, a ring or a diamond),
# so a teacher can learn to read a cut object as its own class, as real CLIP
# reads a truncated dog as a dog.
SHAPESML_CLASSES: Tuple[str,
                        ...] = ('circle', 'square', 'trapezoid', 'star',
                                'cross', 'heart', 'ring', 'diamond', 'frame',
                                'arrow', 'bone', 'lightning bolt')

# Supersampling factor: draw at 2x, then Image.reduce for anti-aliasing.
_SUPERSAMPLE = 2
# Object extent (diameter of its unit frame) as a fraction of the image side.
# 0.2 of 128 px is about 26 px: a small object in a 96-128 px global view
# is then still large enough for the teacher to see at times (the smallest
# size at which shapes stay distinct is about 16 px).
_SMALL_EXTENT = (0.2, 0.35)
_LARGE_EXTENT = (0.35, 0.6)
_CROP_EXTENT = (0.65, 0.95)
_NUM_OBJECTS_PROBS = (0.4, 0.35, 0.15, 0.1)  # for 1, 2, 3, 4 objects
_DOMINANT_PROB = 0.85  # scenes with one large object; the rest are all small
# An earlier-drawn (larger) object may lose at most this fraction of its box
# to all later objects together, which keeps every object recognisable.
_MAX_OCCLUDED = 0.2
_PLACEMENT_TRIES = 50
_MIN_HUE_GAP = 0.12  # objects in one scene get clearly different colours


def _circle_points(radius: float, n: int = 48, center=(0., 0.)) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    unit = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return np.asarray(center) + radius * unit


def _regular_polygon(n: int, radius: float = 1.) -> np.ndarray:
    # First vertex points up (image y grows downwards).
    angles = -np.pi / 2 + 2 * np.pi * np.arange(n) / n
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _star_points() -> np.ndarray:
    outer, inner = _regular_polygon(5), _regular_polygon(5, 0.42)
    inner = inner @ np.array(
        [[np.cos(np.pi / 5), np.sin(np.pi / 5)],
         [-np.sin(np.pi / 5), np.cos(np.pi / 5)]])
    return np.stack([outer, inner], axis=1).reshape(-1, 2)


def _square(half: float) -> np.ndarray:
    return half * np.array([[-1., -1.], [1., -1.], [1., 1.], [-1., 1.]])


_TRAPEZOID = np.array([[-.45, -.5], [.45, -.5], [1., .5], [-1., .5]])


def _heart_points() -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    x = 16 * np.sin(t)**3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) -
          np.cos(4 * t))
    return np.stack([x, y - 2.5], axis=1) / 16


# Each class: polygons drawn in order with fill 255 (shape) or 0 (hole).
_SHAPE_PARTS: Dict[str, List[Tuple[np.ndarray, int]]] = {
    'circle': [(_circle_points(1.), 255)],
    'square': [(_square(.8), 255)],
    'trapezoid': [(_TRAPEZOID, 255)],
    'star': [(_star_points() + [0., .1], 255)],
    'cross': [(np.array([[-.3, -1], [.3, -1], [.3, -.3], [1, -.3], [1, .3],
                         [.3, .3], [.3, 1], [-.3, 1], [-.3, .3], [-1, .3],
                         [-1, -.3], [-.3, -.3]]), 255)],
    'heart': [(_heart_points(), 255)],
    'ring': [(_circle_points(1.), 255), (_circle_points(.55), 0)],
    'diamond': [(np.array([[0, -1], [.6, 0], [0, 1], [-.6, 0]]), 255)],
    'frame': [(_square(.8), 255), (_square(.45), 0)],
    'arrow': [(np.array([[-1, -.27], [.1, -.27], [.1, -.7], [1, 0], [.1, .7],
                         [.1, .27], [-1, .27]]), 255)],
    # A bar with two round knobs at each end, drawn as overlapping parts.
    'bone':
    [(np.array([[-.7, -.16], [.7, -.16], [.7, .16], [-.7, .16]]), 255)] +
    [(_circle_points(.27, 24, (x, y)), 255) for x in (-.73, .73)
     for y in (-.2, .2)],
    'lightning bolt': [(np.array([[.07, -1], [.67, -1], [.27, -.2], [.62, -.2],
                                  [-.33, 1], [.02, .1], [-.38, .1]]), 255)],
}
# Largest rotation (degrees, either way); unlisted classes rotate freely.
_MAX_ROTATION = {
    'square': 20.,
    'diamond': 20.,
    'heart': 30.,
    'lightning bolt': 30.,
    'frame': 20.
}


def _object_colour(
        rng: np.random.Generator,
        avoid_hues: Sequence[float]) -> Tuple[Tuple[int, ...], float]:
    while True:
        hue = float(rng.uniform())
        gaps = [min(abs(hue - h), 1 - abs(hue - h)) for h in avoid_hues]
        if min(gaps, default=1.) >= _MIN_HUE_GAP:
            break
    rgb = colorsys.hsv_to_rgb(hue, rng.uniform(.75, 1.), rng.uniform(.7, 1.))
    return tuple(int(round(255 * c)) for c in rgb), hue


def _grey(rng: np.random.Generator, low: int, high: int,
          tint: int) -> Tuple[int, ...]:
    level = rng.integers(low, high)
    return tuple(
        int(np.clip(level + t, 0, 255))
        for t in rng.integers(-tint, tint + 1, size=3))


def _background(rng: np.random.Generator, side: int) -> Image.Image:
    """Near-grey gradient with translucent lines and jagged blobs (2x)."""
    base = np.array(_grey(rng, 60, 200, 12), dtype=np.float32)
    direction = rng.normal(size=2)
    direction /= np.linalg.norm(direction) + 1e-6
    ramp = np.linspace(-1, 1, side, dtype=np.float32)
    gradient = direction[0] * ramp[None, :] + direction[1] * ramp[:, None]
    pixels = base + rng.uniform(10, 35) * gradient[..., None]
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image, 'RGBA')
    for _ in range(rng.integers(2, 6)):
        radius = rng.uniform(.05, .18) * side
        angles = np.sort(rng.uniform(0, 2 * np.pi, size=10))
        radii = radius * rng.uniform(.35, 1., size=10)
        center = rng.uniform(0, side, size=2)
        points = center + np.stack(
            [radii * np.cos(angles), radii * np.sin(angles)], axis=1)
        alpha = int(rng.integers(80, 200))
        draw.polygon([tuple(p) for p in points],
                     fill=_grey(rng, 30, 230, 10) + (alpha, ))
    for _ in range(rng.integers(3, 9)):
        ends = rng.uniform(0, side, size=4)
        alpha = int(rng.integers(100, 220))
        draw.line(
            tuple(ends),
            fill=_grey(rng, 20, 240, 10) + (alpha, ),
            width=int(rng.integers(1, 4)) * _SUPERSAMPLE)
    return image


def _object_polygons(rng: np.random.Generator, label: int,
                     extent: float) -> List[Tuple[np.ndarray, int]]:
    """Class polygons rotated and scaled to ``extent`` px, centred at 0."""
    name = SHAPESML_CLASSES[label]
    max_rot = np.deg2rad(_MAX_ROTATION.get(name, 180.))
    angle = rng.uniform(-max_rot, max_rot)
    rotation = np.array([[np.cos(angle), np.sin(angle)],
                         [-np.sin(angle), np.cos(angle)]])
    return [(points @ rotation * (extent / 2), fill)
            for points, fill in _SHAPE_PARTS[name]]


def _polygon_bounds(polygons: List[Tuple[np.ndarray, int]]) -> np.ndarray:
    points = np.concatenate([p for p, fill in polygons if fill])
    return np.concatenate([points.min(0), points.max(0)])


def _paste_object(canvas: Image.Image, polygons, offset: np.ndarray,
                  colour: Tuple[int, ...]) -> np.ndarray:
    """Draw the object at ``offset`` (2x px); return its exclusive 2x box."""
    bounds = _polygon_bounds(polygons) + np.tile(offset, 2)
    origin = np.floor(bounds[:2]).astype(int)
    size = np.floor(bounds[2:]).astype(int) - origin + 1
    mask = Image.new('L', tuple(size), 0)
    draw = ImageDraw.Draw(mask)
    for points, fill in polygons:
        draw.polygon([tuple(p) for p in points + offset - origin], fill=fill)
    canvas.paste(colour, tuple(origin), mask)
    return np.concatenate([origin, origin + size])


def _finish(canvas: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Downsample the 2x canvas and add sensor-like noise at full size."""
    pixels = np.asarray(canvas.reduce(_SUPERSAMPLE), dtype=np.float32)
    pixels = pixels + rng.normal(0, rng.uniform(2, 8), size=pixels.shape)
    return Image.fromarray(np.clip(np.round(pixels), 0, 255).astype(np.uint8))


def render_object(rng: np.random.Generator, label: int,
                  size: int) -> Image.Image:
    """A ``size`` x ``size`` image of one object of class ``label``.

    The object spans 65-95% of the side, with a random colour, rotation and
    position on a cluttered background: single-object crops for training a
    tiny teacher.

    Args:
        rng (np.random.Generator): Source of all randomness.
        label (int): Index into ``SHAPESML_CLASSES``.
        size (int): Side of the square image in pixels.
    """
    side = size * _SUPERSAMPLE
    canvas = _background(rng, side)
    polygons = _object_polygons(rng, label, rng.uniform(*_CROP_EXTENT) * side)
    bounds = _polygon_bounds(polygons)
    low, high = 1 - bounds[:2], side - 2 - bounds[2:]
    offset = rng.uniform(low, np.maximum(low, high))
    colour, _ = _object_colour(rng, ())
    _paste_object(canvas, polygons, offset, colour)
    return _finish(canvas, rng)


def _box_intersection(a: np.ndarray, b: np.ndarray) -> float:
    wh = np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2])
    return float(np.prod(np.clip(wh, 0, None)))


def _layout(rng: np.random.Generator, labels: Sequence[int], side: int):
    """Place objects largest first; drop those that would hide others."""
    dominant = len(labels) > 1 and rng.uniform() < _DOMINANT_PROB
    extents = rng.uniform(*_SMALL_EXTENT, size=len(labels))
    if dominant:
        extents[0] = rng.uniform(*_LARGE_EXTENT)
    elif len(labels) == 1:
        extents[0] = rng.uniform(_SMALL_EXTENT[0], _LARGE_EXTENT[1])
    placed, hidden_area, budget = [], [], []
    for idx in np.argsort(-extents, kind='stable'):
        polygons = _object_polygons(rng, labels[idx], extents[idx] * side)
        bounds = _polygon_bounds(polygons)
        low, high = 1 - bounds[:2], side - 2 - bounds[2:]
        for _ in range(_PLACEMENT_TRIES):
            offset = rng.uniform(low, np.maximum(low, high))
            box = np.concatenate([bounds[:2] + offset, bounds[2:] + offset])
            overlaps = [_box_intersection(box, other[3]) for other in placed]
            if all(hidden + overlap <= limit for hidden, overlap, limit in zip(
                    hidden_area, overlaps, budget)):
                hidden_area = [h + o for h, o in zip(hidden_area, overlaps)]
                hidden_area.append(0.)
                budget.append(_MAX_OCCLUDED * np.prod(box[2:] - box[:2]))
                placed.append((labels[idx], polygons, offset, box))
                break
    return placed


def render_scene(
        rng: np.random.Generator,
        image_size: int,
        class_probs: Optional[Sequence[float]] = None,
        required_label: Optional[int] = None
) -> Tuple[Image.Image, List[dict]]:
    """A scene with 1-4 objects of distinct classes on a cluttered background.

    Args:
        rng (np.random.Generator): Source of all randomness.
        image_size (int): Side of the square image in pixels.
        class_probs (Sequence[float], optional): Probability of each class in
            ``SHAPESML_CLASSES`` being drawn. Defaults to None (uniform).
        required_label (int, optional): A class that must appear (used to
            give every class a positive in the test split). Defaults to None.

    Returns:
        tuple: The RGB image and a list of ``dict(label=int, bbox=[x1, y1,
        x2, y2])`` in pixels, x2/y2 exclusive, in drawing order.
    """
    num_classes = len(SHAPESML_CLASSES)
    probs = np.full(num_classes, 1 / num_classes) if class_probs is None \
        else np.asarray(class_probs, dtype=np.float64)
    if probs.shape != (num_classes, ) or (probs < 0).any():
        raise ValueError(f'class_probs needs {num_classes} non-negative '
                         f'values, got {class_probs}')
    probs = probs / probs.sum()
    side = image_size * _SUPERSAMPLE
    while True:
        num_objects = min(
            rng.choice(4, p=_NUM_OBJECTS_PROBS) + 1, np.count_nonzero(probs))
        labels = [
            int(c) for c in rng.choice(
                num_classes, size=num_objects, replace=False, p=probs)
        ]
        if required_label is not None and required_label not in labels:
            labels[rng.integers(num_objects)] = int(required_label)
        placed = _layout(rng, labels, side)
        if required_label is None or any(label == required_label
                                         for label, *_ in placed):
            break
    canvas = _background(rng, side)
    objects, hues = [], []
    for label, polygons, offset, _ in placed:
        colour, hue = _object_colour(rng, hues)
        hues.append(hue)
        box = _paste_object(canvas, polygons, offset, colour)
        # A 2x box [a, b) covers 1x pixels floor(a/2) .. ceil(b/2) - 1.
        bbox = np.concatenate(
            [box[:2] // _SUPERSAMPLE, -(-box[2:] // _SUPERSAMPLE)])
        bbox = np.clip(bbox, 0, image_size)
        objects.append(dict(label=label, bbox=[int(v) for v in bbox]))
    return _finish(canvas, rng), objects


def _write_split(out_dir: str, split: str, rng: np.random.Generator,
                 num_images: int, image_size: int, class_probs,
                 cover_all_classes: bool) -> None:
    os.makedirs(osp.join(out_dir, 'images', split), exist_ok=True)
    records = []
    for idx in range(num_images):
        # The first len(classes) test images each carry one class for sure,
        # because mAP is 0 for a class without a positive.
        required = idx if cover_all_classes and idx < len(
            SHAPESML_CLASSES) else None
        image, objects = render_scene(rng, image_size, class_probs, required)
        file_name = f'{split}/{idx:06d}.png'
        image.save(osp.join(out_dir, 'images', file_name))
        records.append(
            dict(
                file_name=file_name,
                height=image_size,
                width=image_size,
                objects=objects))
    with open(osp.join(out_dir, 'annotations', f'{split}.json'), 'w') as f:
        json.dump(dict(classes=list(SHAPESML_CLASSES), images=records), f)


def generate_shapesml(out_dir: str,
                      seed: int = 0,
                      num_train: int = 2000,
                      num_test: int = 500,
                      image_size: int = 128,
                      class_probs: Optional[Sequence[float]] = None) -> None:
    """Write the ShapesML layout (see :class:`ccd_mm.datasets.ShapesML`).

    The output is a pure function of the arguments: the same seed gives
    byte-identical images and annotation files. Train and test come from
    independent streams spawned from ``seed``, so changing ``num_train``
    does not change the test split. Every class appears in the test split,
    even one that ``class_probs`` gives probability 0.

    Args:
        out_dir (str): Output directory (created if missing).
        seed (int): Random seed. Defaults to 0.
        num_train (int): Number of training images. Defaults to 2000.
        num_test (int): Number of test images, at least the number of
            classes. Defaults to 500.
        image_size (int): Side of the square images. Defaults to 128.
        class_probs (Sequence[float], optional): Class sampling
            probabilities. Defaults to None (uniform).
    """
    if num_test < len(SHAPESML_CLASSES):
        raise ValueError(f'num_test must be >= {len(SHAPESML_CLASSES)} so '
                         f'that every class has a test positive')
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    train_seq, test_seq = np.random.SeedSequence(seed).spawn(2)
    if class_probs is not None:
        class_probs = [float(p) for p in class_probs]
    _write_split(out_dir, 'train', np.random.default_rng(train_seq), num_train,
                 image_size, class_probs, False)
    _write_split(out_dir, 'test', np.random.default_rng(test_seq), num_test,
                 image_size, class_probs, True)
    meta = dict(
        version=SHAPESML_VERSION,
        seed=seed,
        num_train=num_train,
        num_test=num_test,
        image_size=image_size,
        class_probs=class_probs,
        classes=list(SHAPESML_CLASSES))
    with open(osp.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
