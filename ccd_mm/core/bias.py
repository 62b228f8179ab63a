"""CLIP prediction bias and its inverse transform (CCD Sec. 3.1 and 3.3).

CLIP's softmax over the classes tends to give some classes systematically
lower probabilities. CCD estimates that bias as the class-wise mean of the
top-1 probabilities of images CLIP is confident about (treating the global
view as single-label classification), then divides every probability by it.
"""
from typing import Tuple

import torch
from torch import Tensor


def entropy(probs: Tensor) -> Tensor:
    """Shannon entropy ``H(p) = -sum_c p_c log p_c`` per row (CCD Sec. 3.3).

    Args:
        probs (Tensor): ``(N, C)`` probability vectors (rows sum to 1).

    Returns:
        Tensor: ``(N,)`` entropies in nats (natural log). Exact zeros
        contribute ``0 * log 0 = 0``, so one-hot rows give 0, not NaN.
    """
    return -torch.special.xlogy(probs, probs).sum(dim=-1)


def confident_mask(probs: Tensor, tau: float) -> Tensor:
    """Images CLIP is confident about: ``H(p) <= tau`` (CCD Sec. 3.3).

    Args:
        probs (Tensor): ``(N, C)`` CLIP softmax probabilities of the global
            views.
        tau (float): entropy threshold tau_H in nats. Paper: 0.5; released
            script: 2.0.

    Returns:
        Tensor: ``(N,)`` bool mask of the confident images.
    """
    return entropy(probs) <= tau


def estimate_clip_bias(probs: Tensor,
                       tau: float,
                       fallback: float = 1.0) -> Tuple[Tensor, Tensor]:
    """CLIP bias: class-wise mean of confident top-1 probabilities (CCD 3.3).

    ``b_c = mean{ p_c(x) : H(p(x)) <= tau and argmax p(x) = c }``, steps
    (1)-(4) of CCD Sec. 3.3.

    Args:
        probs (Tensor): ``(N, C)`` CLIP softmax probabilities of the global
            views of the whole training set.
        tau (float): entropy threshold tau_H (see :func:`confident_mask`).
        fallback (float): bias given to a class that is never the top-1 class
            of a confident image, where the mean is undefined (the released
            script divides 0 by 0 and gets NaN). Default 1.0, i.e. that class
            is not rescaled by :func:`debias`.

    Returns:
        Tuple[Tensor, Tensor]: ``bias`` of shape ``(C,)`` (NaN-free, in
        ``(0, 1]`` for estimated classes) and ``has_estimate``, a ``(C,)`` bool
        mask of the classes with at least one confident top-1 image, so the
        caller can log which classes fell back.
    """
    num_classes = probs.shape[1]
    top_prob, top_class = probs[confident_mask(probs, tau)].max(dim=1)
    sums = torch.zeros(
        num_classes, dtype=probs.dtype,
        device=probs.device).index_add_(0, top_class, top_prob)
    counts = torch.bincount(top_class, minlength=num_classes)
    has_estimate = counts > 0
    bias = torch.where(has_estimate, sums / counts.clamp(min=1),
                       torch.full_like(sums, fallback))
    return bias, has_estimate


def debias(probs: Tensor,
           bias: Tensor,
           floor: float = 0.05,
           saturate: bool = True) -> Tensor:
    """Inverse transform of the CLIP bias: ``clamp(max(p, floor) / b, 0, 1)``.

    CCD Sec. 3.3 ("multiplying each class's softmax probability by the inverse
    of the CLIP bias" and raising "excessively small probabilities"), applied
    to the global view (initial pseudo-label, Sec. 3.1) and to the local label
    (Sec. 3.2).

    Args:
        probs (Tensor): ``(..., C)`` probabilities.
        bias (Tensor): ``(C,)`` bias from :func:`estimate_clip_bias`, or any
            shape broadcastable to ``probs`` such as ``(N, C)``.
        floor (float): lower bound applied before the division so that tiny
            probabilities do not vanish. Default 0.05 (= 1/20, the released
            script's value).
        saturate (bool): clamp the result to ``[0, 1]``. False returns
            ``max(p, floor) / b``, which can exceed 1: the released script's
            local label, which it blends before any clamp. Default True.

    Returns:
        Tensor: pseudo-labels in ``[0, 1]`` (with ``saturate``), same shape as
        ``probs``. Values that reach 1 are the saturated ones used by
        :func:`~ccd_mm.core.early_stop.binarize_saturated`.
    """
    debiased = probs.clamp(min=floor) / bias
    return debiased.clamp(0.0, 1.0) if saturate else debiased
