"""The crop oracle of a ShapesML split: the teacher on a crop around every
ground-truth box, the ceiling of what crop proposals can give a teacher
(CCD 3.2, Eq. 5). It reads the split's ground truth, so it serves reports
and headroom runs only (tools/shapesml/teacher_realism.py,
``CropOracleLabelHook``), never a label-free result."""
from typing import List, Optional, Sequence, Tuple

import torch

from ccd_mm.core.aggregate import local_max
from ccd_mm.datasets.image_decoder import ImageDecoder
from .image_views import CropViewDataset


def grown_boxes(boxes: Sequence, image_sizes: Sequence[Tuple[int, int]],
                view_size: int, offset: int) -> List[torch.Tensor]:
    """Ground-truth boxes in view coordinates, grown by ``offset`` px on
    every side and clipped, as CAM boxes are (CCD Sec. 3.2).

    Args:
        boxes (Sequence): per image, ``(K, 4)`` pixel boxes ``x1, y1, x2,
            y2`` (array-like).
        image_sizes (Sequence[Tuple[int, int]]): per image, ``(width,
            height)`` in pixels.
        view_size (int): side of the square view the boxes are scaled to.
        offset (int): pixels added on every side, on the view.

    Returns:
        List[Tensor]: per image, ``(K, 4)`` long boxes on the view.
    """
    grown = []
    for image_boxes, (width, height) in zip(boxes, image_sizes):
        scale = torch.tensor([width, height] * 2, dtype=torch.float)
        box = torch.as_tensor(image_boxes, dtype=torch.float).view(-1, 4)
        box = box * view_size / scale
        box[:, :2] -= offset
        box[:, 2:] += offset
        grown.append(box.round().clamp(0, view_size).long())
    return grown


# The box edges :func:`cut_boxes` moves inward, by number.
BOX_EDGES = ('left', 'top', 'right', 'bottom')


def cut_boxes(boxes: torch.Tensor, fraction: float,
              edges: torch.Tensor) -> torch.Tensor:
    """Boxes with ``fraction`` of their width (left or right edge) or height
    (top or bottom edge) cut away at one edge each, as a CAM box that stops
    short of its object cuts it.

    Args:
        boxes (Tensor): ``(K, 4)`` boxes ``x1, y1, x2, y2`` (x2/y2
            exclusive).
        fraction (float): share of the box's side cut away, in [0, 1).
        edges (Tensor): ``(K,)`` indices into ``BOX_EDGES``, the edge each
            box loses.

    Returns:
        Tensor: ``(K, 4)`` float boxes, each at least 1 px wide and high.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f'fraction must lie in [0, 1), got {fraction}')
    cut = boxes.float().clone()
    width = cut[:, 2] - cut[:, 0]
    height = cut[:, 3] - cut[:, 1]
    # left: x1 moves right; top: y1 moves down; right: x2 moves left;
    # bottom: y2 moves up.
    moves = torch.stack([width, height, -width, -height], dim=1) * fraction
    cut[torch.arange(len(cut)), edges] += moves[torch.arange(len(cut)), edges]
    cut[:, 2:] = torch.maximum(cut[:, 2:], cut[:, :2] + 1)
    return cut


@torch.no_grad()
def crop_oracle_probs(teacher: torch.nn.Module,
                      paths: Sequence[str],
                      boxes: Sequence[torch.Tensor],
                      view_size: int,
                      crop_size: int,
                      decoder: Optional[ImageDecoder] = None) -> torch.Tensor:
    """(N, C) per-class max of the teacher over each image's box crops;
    ``decoder`` as in :class:`~ccd_mm.labeling.image_views.CropViewDataset`.
    """
    crops = CropViewDataset(
        paths, boxes, view_size, crop_size, decoder=decoder)
    views, owners = [], []
    for index in range(len(crops)):
        _, image_crops = crops[index]
        views += image_crops
        owners += [index] * len(image_crops)
    return local_max(
        teacher.label_views(views), torch.tensor(owners), len(crops))
