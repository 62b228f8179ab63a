"""Pooling a dense map inside boxes: a box's local label from one teacher
pass over the whole view instead of a teacher pass over its crop."""
import torch
from torch import Tensor


def box_cell_mask(boxes: Tensor, view_size: int, grid: tuple) -> Tensor:
    """Which cells of a ``grid`` over a square view each box covers.

    A cell belongs to a box when its centre lies inside the box; a box too
    small to hold a centre gets the cell that holds its own centre, so no
    box is empty.

    Args:
        boxes (Tensor): ``(K, 4)`` boxes ``x1, y1, x2, y2`` in pixels of the
            ``view_size`` view, ``x2``/``y2`` exclusive.
        view_size (int): side of the square view the boxes are drawn on.
        grid (tuple): ``(rows, cols)`` of the dense map over the same view.

    Returns:
        Tensor: ``(K, rows, cols)`` bool.
    """
    rows, cols = grid
    boxes = boxes.to(torch.float64)
    centres_y = (torch.arange(rows, dtype=torch.float64) + 0.5) * (
        view_size / rows)
    centres_x = (torch.arange(cols, dtype=torch.float64) + 0.5) * (
        view_size / cols)
    inside_y = (centres_y >= boxes[:, 1:2]) & (centres_y < boxes[:, 3:4])
    inside_x = (centres_x >= boxes[:, 0:1]) & (centres_x < boxes[:, 2:3])
    mask = inside_y[:, :, None] & inside_x[:, None, :]
    box_y = ((boxes[:, 1] + boxes[:, 3]) / 2 * rows / view_size).long()
    box_x = ((boxes[:, 0] + boxes[:, 2]) / 2 * cols / view_size).long()
    empty = torch.nonzero(~mask.flatten(1).any(dim=1)).flatten()
    mask[empty, box_y[empty].clamp(0, rows - 1),
         box_x[empty].clamp(0, cols - 1)] = True
    return mask


def pool_in_boxes(dense: Tensor, boxes: Tensor, view_size: int) -> Tensor:
    """Mean of a dense embedding map over the cells of each box.

    The attention pool of a CLIP tower is a weighted mean of the per-location
    value embeddings, so the mean over a box's cells stands in for the
    embedding of the box's crop (MaskCLIP's reading of the value path).

    Args:
        dense (Tensor): ``(rows, cols, D)`` embeddings of one view.
        boxes (Tensor): ``(K, 4)`` boxes in pixels of the ``view_size`` view.
        view_size (int): side of the square view.

    Returns:
        Tensor: ``(K, D)`` pooled embeddings.
    """
    mask = box_cell_mask(boxes, view_size, tuple(dense.shape[:2]))
    weights = mask.flatten(1).to(dense.dtype)
    weights = weights / weights.sum(dim=1, keepdim=True)
    return weights @ dense.flatten(0, 1)
