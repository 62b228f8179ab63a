"""Classifier-guided local views: class selection and CAM boxes (CCD 3.2)."""
import math
from typing import Iterable, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def select_classes(logits: Tensor, threshold: float) -> Tensor:
    """Classes that get a local view: ``sigmoid(logit_c) >= t`` (CCD Sec. 3.2).

    "We conduct additional local view sampling when the classifier output of
    a certain class surpasses a predefined threshold", so complex images get
    more local views than simple ones.

    Args:
        logits (Tensor): ``(..., C)`` classifier logits.
        threshold (float): probability threshold t. Paper: 0.5; the released
            script calibrates it with :func:`adaptive_class_threshold`.

    Returns:
        Tensor: bool mask of the same shape as ``logits``.
    """
    return torch.sigmoid(logits) >= threshold


def scale_positive_cam(cam: Tensor, scale: float) -> Tensor:
    """The positive part of a CAM multiplied by ``scale``, the rest kept.

    The released script's ``coeff`` (3 there, not in the paper): the class
    maps the logits pool and the label update boxes.

    Args:
        cam (Tensor): class activation maps of any shape.
        scale (float): factor of the positive values.

    Returns:
        Tensor: ``cam * scale`` where ``cam > 0``, ``cam`` elsewhere.
    """
    return torch.where(cam > 0, cam * scale, cam)


def adaptive_class_threshold(probs: Tensor,
                             bound: float = 4,
                             start: float = 0.05,
                             step: float = 0.001) -> float:
    """Class-selection threshold at the released CCD script's target count.

    The script aims at a mean of ``bound`` to ``bound + 2`` (exclusive)
    classes with ``prob >= t`` per image, raising t from ``start`` by
    ``step``; its own procedure (:func:`windowed_class_threshold`) takes one
    step per window of new images and so cannot rise above
    ``start + step * N / window`` on N images. This reading evaluates the
    whole grid ``t = start + k * step`` on one sample and returns the first t
    whose mean count is ``< bound + 2``. The mean count never increases with
    t, so this is where the script's rise would first stop if every window
    were this sample; where the count jumps from ``>= bound + 2`` to
    ``<= bound`` the interval is skipped and the first t below it is
    returned all the same. ``start`` if the count there is already below
    ``bound + 2``; never more than 1.0.

    The whole grid is evaluated at once from the sorted probabilities.

    Args:
        probs (Tensor): ``(R, C)`` classifier probabilities (sigmoid of the
            logits) of the rows to calibrate on (the script's windows hold
            100 shuffled training images); sampling them is the caller's
            job.
        bound (float): lower end of the target interval of the mean number of
            selected classes. Default 4 (released script).
        start (float): first threshold tried. Default 0.05.
        step (float): grid spacing. Default 0.001.

    Returns:
        float: the threshold t, in ``[min(start, 1), 1]``.
    """
    if start >= 1.0:
        return 1.0
    num_steps = math.ceil((1.0 - start) / step)
    grid = start + step * torch.arange(num_steps + 1, dtype=torch.float64)
    grid = grid.clamp(max=1.0)
    values = probs.detach().reshape(-1).to(torch.float64).sort().values
    # searchsorted(side='left') is the number of values strictly below t.
    num_at_or_above = values.numel() - torch.searchsorted(values, grid)
    mean_count = num_at_or_above.to(torch.float64) / probs.shape[0]
    below = torch.nonzero(mean_count < bound + 2)
    if below.numel() == 0:
        return 1.0
    return float(grid[below[0, 0]])


def windowed_class_threshold(probs: Iterable[Tensor],
                             bound: float = 4,
                             start: float = 0.05,
                             step: float = 0.001,
                             window: int = 100) -> float:
    """Class-selection threshold t by the released script's own procedure.

    One pass over the images in the order given (the script's shuffled
    training set), each image's classes counted at the t of the moment
    (``prob >= t``). After image ``window``, ``2 * window``, ... (0-based)
    the window's count sum divided by ``window`` is checked: inside the
    open interval ``(bound, bound + 2)`` the pass stops with that t,
    otherwise t rises by ``step`` and a new window starts. The pass also
    ends with the images, with the t reached; the images after the last
    check are counted but never checked. As in the script, the first window
    holds ``window + 1`` images (0 to ``window``) and is divided by
    ``window`` all the same. The counts are summed as integers and divided
    once (the script adds float32 ``count / window`` terms, whose rounding
    can put a mean of exactly ``bound`` on either side).

    Compared with :func:`adaptive_class_threshold` (every t on one fixed
    sample), each window here is new images at a new t, so the result
    depends on the order and can stop where a fixed sample would not.

    Args:
        probs (Iterable[Tensor]): ``(R_i, C)`` classifier probabilities of
            the images in order, in chunks of any size; read lazily, so the
            images after the stop need not be scored.
        bound (float): lower end of the target interval. Default 4.
        start (float): first t. Default 0.05 (the script's, with its
            ``LS``; its floor 1/20 on the labels).
        step (float): rise of t per window. Default 0.001.
        window (int): images per check. Default 100.

    Returns:
        float: the threshold t.
    """
    threshold = start
    window_count = 0
    index = 0
    for chunk in probs:
        for row in chunk.detach():
            window_count += int((row >= threshold).sum())
            if index % window == 0 and index != 0:
                if bound < window_count / window < bound + 2:
                    return threshold
                threshold += step
                window_count = 0
            index += 1
    return threshold


def cam_to_boxes(cams: Tensor,
                 image_size: Tuple[int, int],
                 threshold: float = 0.95,
                 offset: int = 80,
                 eps: float = 1e-5,
                 box_rule: str = 'bounding') -> Tensor:
    """Local-view boxes from class activation maps (CCD Sec. 3.2, Eq. 4).

    For each map: bilinear upsampling to the view size
    (``align_corners=False``), min-max normalisation
    ``(x - min) / (max - min + eps)``, threshold ``>= threshold``
    (supplementary Fig. 7: 0.95 is best), bounding box of the above-threshold
    pixels, grown by ``offset`` pixels on every side ("slight perturbation
    offsets") and clipped to the image.

    Notes:
        * ``box_rule='bounding'``: the true bounding box of the
          above-threshold region. ``'row_major_corners'``: the released
          script's box, whose corners are the first and last above-threshold
          pixels in row-major order (rows and columns each sorted), which
          spans the region's rows but can cut off columns of a region that
          is not a rectangle; its ends are the last pixel's index plus
          ``offset`` (the script's slice end), one pixel short of the
          bounding rule's.
        * A map with no pixel above the threshold (a constant map, whose
          normalised values are all 0, or one whose range is comparable to
          ``eps``) carries no location, so its box is the whole image.

    Args:
        cams (Tensor): ``(K, h, w)`` class activation maps, one per selected
            class.
        image_size (Tuple[int, int]): ``(H, W)`` of the view the boxes refer to
            (640 x 640 in the paper).
        threshold (float): threshold on the normalised map. Default 0.95.
        offset (int): margin in pixels added on every side. Default 80 (paper
            and released script, on the 640 view).
        eps (float): added to ``max - min`` in the normalisation. Default 1e-5.
        box_rule (str): ``'bounding'`` (default) or ``'row_major_corners'``
            (released script), see the notes.

    Returns:
        Tensor: ``(K, 4)`` long boxes ``x1, y1, x2, y2`` with exclusive
        ``x2, y2``, so the crop is ``img[..., y1:y2, x1:x2]``.
    """
    if box_rule not in ('bounding', 'row_major_corners'):
        raise ValueError("box_rule must be 'bounding' or "
                         f"'row_major_corners', got {box_rule!r}")
    height, width = image_size
    if cams.shape[0] == 0:
        return torch.zeros((0, 4), dtype=torch.long, device=cams.device)
    maps = F.interpolate(
        cams[:, None].float(),
        size=(height, width),
        mode='bilinear',
        align_corners=False)[:, 0]
    low = maps.amin(dim=(1, 2), keepdim=True)
    high = maps.amax(dim=(1, 2), keepdim=True)
    above = (maps - low) / (high - low + eps) >= threshold
    found = above.flatten(1).any(dim=1)
    if box_rule == 'bounding':
        rows = above.any(dim=2)
        cols = above.any(dim=1)
        y1 = _first_true(rows)
        y2 = height - _first_true(rows.flip(1))
        x1 = _first_true(cols)
        x2 = width - _first_true(cols.flip(1))
    else:
        flat = above.flatten(1)
        first = _first_true(flat)
        last = flat.shape[1] - 1 - _first_true(flat.flip(1))
        y1, y2 = first // width, last // width
        x1 = torch.minimum(first % width, last % width)
        x2 = torch.maximum(first % width, last % width)
    boxes = torch.stack([(x1 - offset).clamp(min=0),
                         (y1 - offset).clamp(min=0),
                         (x2 + offset).clamp(max=width),
                         (y2 + offset).clamp(max=height)],
                        dim=1)
    whole_image = torch.tensor([0, 0, width, height], device=cams.device)
    return torch.where(found[:, None], boxes, whole_image)


def _first_true(mask: Tensor) -> Tensor:
    """Index of the first True in each row of a (K, L) bool mask, else 0."""
    return mask.to(torch.uint8).argmax(dim=1)
