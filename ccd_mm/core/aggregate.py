"""Combining global and local CLIP predictions into one label per image.

CCD: the max over classifier-guided local views and the blend with the
initial label (CCD Sec. 3.2, Eq. 5 and 7). CDUL: the global-local similarity
aggregator over a fixed grid of snippets (CDUL Sec. 3.1.2-3.1.3, Eq. 5-6 and
supplementary Sec. 6.1).
"""
from typing import Tuple

import torch
from torch import Tensor


def local_max(patch_probs: Tensor, image_index: Tensor,
              num_images: int) -> Tensor:
    """Local label: per-class max over an image's patches (CCD Eq. 5).

    ``p_local_c = max_i p_patch_{i,c}`` over the local views i of the image.

    Args:
        patch_probs (Tensor): ``(P, C)`` CLIP probabilities of all local views.
        image_index (Tensor): ``(P,)`` long, the image each view was cropped
            from, in ``[0, num_images)``.
        num_images (int): number of images N.

    Returns:
        Tensor: ``(N, C)`` local labels. An image with no local view (no
        selected class) gets zeros, which :func:`~ccd_mm.core.bias.debias`
        later raises to its floor.
    """
    local = patch_probs.new_zeros((num_images, patch_probs.shape[1]))
    # include_self=False: images without views keep their zeros and the
    # others get the max over their views only.
    index = image_index[:, None].expand_as(patch_probs)
    return local.scatter_reduce_(
        0, index, patch_probs, 'amax', include_self=False)


def blend_labels(initial: Tensor, local: Tensor, alpha: float) -> Tensor:
    """Updated pseudo-label ``clamp(a*l_initial + (1-a)*l_local, 0, 1)``.

    CCD Eq. 7. Paper: alpha = 0.4; released script: alpha = 0.2.

    Args:
        initial (Tensor): ``(N, C)`` initial (debiased) pseudo-labels.
        local (Tensor): ``(N, C)`` debiased local labels, in ``[0, 1]``
            (paper) or unclamped (released script).
        alpha (float): weight a of the initial label, in ``[0, 1]``.

    Returns:
        Tensor: ``(N, C)`` updated pseudo-labels in ``[0, 1]``.
    """
    return (alpha * initial + (1.0 - alpha) * local).clamp(0.0, 1.0)


def cdul_global_local(global_probs: Tensor, snippet_probs: Tensor, zeta: float,
                      lam: float) -> Tensor:
    """CDUL global-local aggregation of CLIP scores (CDUL Eq. 5-6, Sec. 6.1).

    With ``alpha_i = max_j s_{j,i}`` and ``beta_i = min_j s_{j,i}`` over the
    snippets j, ``gamma_i = [alpha_i >= zeta]`` (Eq. 5) and
    ``s_ag_i = gamma_i * alpha_i + (1 - gamma_i) * beta_i`` (Eq. 6):
    ``S_final = 0.5 * (S_global + S_ag + lam * |S_global - S_ag|)``.
    ``lam = 0`` is the average of global and aggregate (main paper),
    ``lam = 1`` their element-wise maximum (supplementary, used for Table 1).

    Args:
        global_probs (Tensor): ``(N, C)`` CLIP scores of the whole images.
        snippet_probs (Tensor): ``(N, S, C)`` CLIP scores of the S snippets
            of each image (S = 9 for the 3 x 3 grid of :func:`grid_boxes`).
        zeta (float): threshold on the best snippet score; the paper uses
            values in ``[0, 0.4]``.
        lam (float): smoothing between average (0) and maximum (1).

    Returns:
        Tensor: ``(N, C)`` initial pseudo-labels S_final.
    """
    best = snippet_probs.amax(dim=1)
    worst = snippet_probs.amin(dim=1)
    aggregate = torch.where(best >= zeta, best, worst)
    return 0.5 * (
        global_probs + aggregate + lam * (global_probs - aggregate).abs())


def grid_boxes(image_size: Tuple[int, int], grid: int = 3) -> Tensor:
    """Boxes of CDUL's snippets: a ``grid x grid`` tiling of the image.

    CDUL Sec. 3.1.2 splits each image into snippets. Cells are
    ``H // grid`` by ``W // grid`` pixels except the last row and column,
    which absorb the remainder, so the boxes tile the image exactly.

    Args:
        image_size (Tuple[int, int]): ``(H, W)`` of the image.
        grid (int): cells per side. Default 3 (3 x 3 = 9 snippets).

    Returns:
        Tensor: ``(grid * grid, 4)`` long boxes ``x1, y1, x2, y2`` (exclusive
        ends) in row-major order (left to right, then top to bottom).

    Raises:
        ValueError: if the image is smaller than ``grid`` pixels on a side,
            which would give empty snippets.
    """
    height, width = image_size
    if height < grid or width < grid:
        raise ValueError(f'image_size {image_size} is too small for a '
                         f'{grid} x {grid} grid')
    ys = [r * (height // grid) for r in range(grid)] + [height]
    xs = [c * (width // grid) for c in range(grid)] + [width]
    return torch.tensor([[xs[c], ys[r], xs[c + 1], ys[r + 1]]
                         for r in range(grid) for c in range(grid)],
                        dtype=torch.long)


def fuse_global_and_dense(global_probs: Tensor, dense_probs: Tensor) -> Tensor:
    """Initial label from a view's global and dense teacher scores.

    ``l_c = (p_global_c + max_xy p_dense_c(x, y)) / 2``, renormalised to sum
    to 1. The per-class max over locations is TagCLIP's local-to-global step
    (a small object wins at its own locations, where the whole view's
    softmax gives it little); averaging with the global score keeps the
    classes that only the whole view reads, as TagCLIP's fusion does; the
    renormalisation keeps a row a distribution, so the entropy and bias of
    CCD 3.3 apply to it as to a global one.

    Args:
        global_probs (Tensor): ``(N, C)`` softmax over the classes of the
            whole views.
        dense_probs (Tensor): ``(N, C, h, w)`` softmax over the classes at
            each location of the same views.

    Returns:
        Tensor: ``(N, C)``, rows summing to 1.
    """
    fused = (global_probs + dense_probs.amax(dim=(2, 3))) / 2
    return fused / fused.sum(dim=1, keepdim=True)
