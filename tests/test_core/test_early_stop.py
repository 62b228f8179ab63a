import numpy as np
import pytest
import torch

from ccd_mm.core import binarize_saturated, label_free_stop_epoch
from ccd_mm.core.early_stop import select_epoch


def test_first_rise_of_the_gradient():
    # d = [0.25, 0.125, 0.0625, 0.125]: d_4 - d_3 = 0.0625 > 0 at e = 4.
    assert label_free_stop_epoch([0.5, 0.75, 0.875, 0.9375, 1.0625]) == 4
    # d = [1, 2]: rises at once.
    assert label_free_stop_epoch([0.0, 1.0, 3.0]) == 2
    # a drop then flat: d = [-1, 0].
    assert label_free_stop_epoch([1.0, 0.0, 0.0]) == 2
    # only the first rise counts: d = [4, 1, 2, 0, 3].
    assert label_free_stop_epoch([0, 4, 5, 7, 7, 10]) == 3


def test_concave_curves_and_ties_never_stop():
    # monotone concave: d = [4, 3, 2, 1]
    assert label_free_stop_epoch([0, 4, 7, 9, 10]) is None
    # d = [0.25, 0.125, 0.0625, 0.0625]: the last difference is a tie, not > 0.
    assert label_free_stop_epoch([0.5, 0.75, 0.875, 0.9375, 1.0]) is None
    assert label_free_stop_epoch([0.3, 0.3, 0.3, 0.3]) is None


def test_short_lists():
    assert label_free_stop_epoch([]) is None
    assert label_free_stop_epoch([0.5]) is None
    assert label_free_stop_epoch([0.5, 0.9]) is None


def test_tolerance_and_sequence_types():
    # d = [1, 1.5]: rise of 0.5.
    assert label_free_stop_epoch([0.0, 1.0, 2.5], tolerance=0.5) is None
    assert label_free_stop_epoch([0.0, 1.0, 2.5], tolerance=0.4) == 2
    assert label_free_stop_epoch(np.array([0.0, 1.0, 3.0])) == 2
    assert label_free_stop_epoch((0.0, 1.0, 3.0)) == 2


def test_binarize_saturated():
    labels = torch.tensor([[1.0, 0.999, 0.0], [0.5, 1.0, 1.0]])
    out = binarize_saturated(labels)
    assert out.dtype == torch.float32
    assert out.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]


def test_selection_rules_by_hand():
    # d = [10, 5, -20, 8, 2, 1]: the paper's rule fires at e = 4 (the rise
    # after the dip of the label update at e = 3), on the curve from e = 3
    # on (d = [8, 2, 1]) it never fires.
    curve = [40, 50, 55, 35, 43, 45, 46]
    assert select_epoch(curve, 'paper') == (4, True)
    assert select_epoch(curve, 'paper_after_update', first=3) == (6, False)
    assert select_epoch(curve, 'best_after_update', first=3) == (6, True)
    assert select_epoch(curve, 'best_after_update') == (2, True)
    assert select_epoch(curve, 'last') == (6, True)
    # a rise after the update: d = [2, 4] from e = 3 -> fires at e = 5
    assert select_epoch([1, 2, 3, 30, 32, 36, 37],
                        'paper_after_update',
                        first=3) == (5, True)
    # ties keep the latest best: a curve with no saturated target is flat
    assert select_epoch([1, 5, 5, 2], 'best_after_update') == (2, True)
    assert select_epoch([0, 0, 0], 'best_after_update') == (2, True)
    # first beyond the curve is clamped to the last epoch
    assert select_epoch([1, 2], 'paper_after_update', first=5) == (1, False)


def test_selection_rule_errors():
    with pytest.raises(ValueError, match='rule'):
        select_epoch([1, 2], 'median')
    with pytest.raises(ValueError, match='no epoch'):
        select_epoch([], 'last')
