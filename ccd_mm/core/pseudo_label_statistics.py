"""Summary numbers of a set of pseudo-labels, computed without any ground
truth (logged every epoch by ``PseudoLabelStatsHook`` and printed by the
quality report)."""
from typing import Dict

from torch import Tensor


def pseudo_label_statistics(labels: Tensor,
                            threshold: float = 0.5) -> Dict[str, float]:
    """How many labels an image gets, and how strong they are.

    Args:
        labels (Tensor): (N, C) pseudo-labels or scores in [0, 1].
        threshold (float): a label counts as positive at ``>= threshold``.
            Defaults to 0.5.

    Returns:
        dict: ``labels_per_image`` (mean count of positives),
        ``saturated_per_image`` (mean count of labels equal to 1, the
        positives of the label-free selection, CCD 4.1) and ``mean_value``.
        Zeros for an empty set.
    """
    if labels.numel() == 0:
        return dict(
            labels_per_image=0.0, saturated_per_image=0.0, mean_value=0.0)
    return dict(
        labels_per_image=float((labels >= threshold).sum(1).float().mean()),
        saturated_per_image=float((labels == 1).sum(1).float().mean()),
        mean_value=float(labels.float().mean()))
