"""Label-free model selection (CCD Sec. 4.1).

"Training was ceased when the gradient of mAP reached the first local
minimum", where the mAP is that of the classifier's training predictions
against the current pseudo-labels binarised at their saturated entries.
"""
from typing import Optional, Sequence, Tuple

from torch import Tensor


def label_free_stop_epoch(values: Sequence[float],
                          tolerance: float = 0.0) -> Optional[int]:
    """Epoch at which the first local minimum of the mAP gradient is seen.

    With ``d_e = m_e - m_{e-1}`` (e >= 1), returns the first ``e >= 2`` with
    ``d_e - d_{e-1} > tolerance``: the gradient ``d`` stopped falling at
    ``e - 1`` and rises again at ``e``, which is the first epoch at which its
    local minimum is known (CCD Sec. 4.1).

    Args:
        values (Sequence[float]): per-epoch pseudo-label mAPs ``m_0, m_1, ...``
            in training order.
        tolerance (float): how much the gradient must rise to count, so
            floating-point noise in a flat curve does not stop training.
            Default 0.0 (strict ``> 0`` as in the rule).

    Returns:
        Optional[int]: the 0-based position ``e`` in ``values``; ``None`` when
        the gradient never rises (e.g. a concave curve) or when fewer than 3
        values are given.
    """
    grads = [values[e] - values[e - 1] for e in range(1, len(values))]
    for e in range(2, len(values)):
        if grads[e - 1] - grads[e - 2] > tolerance:
            return e
    return None


def binarize_saturated(labels: Tensor) -> Tensor:
    """Targets of the label-free mAP: ``labels == 1`` (CCD Sec. 4.1).

    The entries equal to 1 are those the debias clamp saturated
    (:func:`~ccd_mm.core.bias.debias`), i.e. CLIP's most certain positives.

    Args:
        labels (Tensor): ``(N, C)`` pseudo-labels in ``[0, 1]``.

    Returns:
        Tensor: ``(N, C)`` float tensor of 0s and 1s.
    """
    return (labels == 1).float()


SELECTION_RULES = ('paper', 'paper_after_update', 'best_after_update', 'last')


def select_epoch(values: Sequence[float],
                 rule: str = 'paper',
                 first: int = 0) -> Tuple[int, bool]:
    """The epoch a label-free selection rule keeps, from the per-epoch
    pseudo-label mAPs ``values`` (0-based positions).

    Rules (``first``: the first epoch trained on updated labels, e.g. the
    label update's epoch; the curve jumps there because its targets change):

    - ``'paper'``: :func:`label_free_stop_epoch` on the whole curve (CCD 4.1).
    - ``'paper_after_update'``: the same rule on ``values[first:]`` only.
    - ``'best_after_update'``: the highest value from ``first`` on; on
      ties the latest, since equal values tell the epochs nothing apart
      (a curve without any saturated target is all zeros) and a later
      epoch has trained longer.
    - ``'last'``: the last epoch.

    Every rule decides at the epoch it keeps, from the values up to it, so a
    training hook can save that epoch's weights when it is reached.

    Args:
        values (Sequence[float]): per-epoch pseudo-label mAPs.
        rule (str): one of :data:`SELECTION_RULES`. Defaults to 'paper'.
        first (int): see above. Defaults to 0.

    Returns:
        (epoch, fired): the kept position, and False when a stopping rule
        never fired and the last epoch is kept instead.
    """
    if rule not in SELECTION_RULES:
        raise ValueError(f'rule must be one of {SELECTION_RULES}, got '
                         f'{rule!r}')
    if not len(values):
        raise ValueError('no epoch to select')
    last = len(values) - 1
    first = min(max(first, 0), last)
    if rule == 'last':
        return last, True
    if rule == 'best_after_update':
        tail = list(values[first:])
        return last - tail[::-1].index(max(tail)), True
    start = first if rule == 'paper_after_update' else 0
    stop = label_free_stop_epoch(values[start:])
    return (last, False) if stop is None else (start + stop, True)
