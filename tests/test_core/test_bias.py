import math

import pytest
import torch

from ccd_mm.core import confident_mask, debias, entropy, estimate_clip_bias

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def test_entropy_hand_values_and_exact_zeros():
    probs = torch.tensor([[0.5, 0.5, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0],
                          [0.25, 0.25, 0.25, 0.25]])
    h = entropy(probs)
    assert h.shape == (3, )
    assert not torch.isnan(h).any()
    assert h.tolist() == pytest.approx([math.log(2), 0.0, math.log(4)])


def test_confident_mask_is_inclusive():
    # H([0.9, 0.1]) = -(0.9 ln 0.9 + 0.1 ln 0.1) = 0.3251; H(one-hot) = 0.
    probs = torch.tensor([[0.5, 0.5], [0.9, 0.1], [1.0, 0.0]])
    assert confident_mask(probs, 0.5).tolist() == [False, True, True]
    assert confident_mask(probs, 0.0).tolist() == [False, False, True]


# Entropies: 0.394, 0.802, 0.639, 1.089 (natural log).
PROBS = torch.tensor([
    [0.9, 0.05, 0.05],  # confident top-1 class 0 with 0.9
    [0.7, 0.2, 0.1],  # confident for tau >= 0.81, top-1 class 0 with 0.7
    [0.1, 0.8, 0.1],  # confident top-1 class 1 with 0.8
    [0.4, 0.3, 0.3],  # never confident below tau 1.08
])


def test_bias_is_class_mean_of_confident_top1():
    bias, has = estimate_clip_bias(PROBS, tau=1.0)
    # class 0: (0.9 + 0.7) / 2; class 1: 0.8; class 2: no confident top-1.
    assert bias.tolist() == pytest.approx([0.8, 0.8, 1.0])
    assert has.tolist() == [True, True, False]

    bias, has = estimate_clip_bias(PROBS, tau=0.7)
    assert bias.tolist() == pytest.approx([0.9, 0.8, 1.0])

    # The 0.4 row becomes confident and lowers class 0's mean.
    bias, _ = estimate_clip_bias(PROBS, tau=1.1)
    assert bias[0].item() == pytest.approx((0.9 + 0.7 + 0.4) / 3)


def test_bias_fallback_and_no_nan_without_confident_images():
    bias, has = estimate_clip_bias(PROBS, tau=1.0, fallback=0.5)
    assert bias[2].item() == 0.5
    bias, has = estimate_clip_bias(PROBS, tau=0.1)
    assert not torch.isnan(bias).any()
    assert bias.tolist() == [1.0, 1.0, 1.0]
    assert has.tolist() == [False, False, False]


def test_debias_floor_divide_clamp():
    probs = torch.tensor([[0.02, 0.3, 0.9]])
    bias = torch.tensor([0.5, 0.5, 0.5])
    # max(p, 0.05) / 0.5 = [0.1, 0.6, 1.8] -> clamp to 1.
    assert debias(probs, bias).tolist()[0] == pytest.approx([0.1, 0.6, 1.0])
    assert debias(
        probs, bias, floor=0.0).tolist()[0] == pytest.approx([0.04, 0.6, 1.0])


def test_debias_unsaturated_keeps_values_above_one():
    probs = torch.tensor([[0.02, 0.3, 0.9]])
    bias = torch.tensor([0.5, 0.5, 0.5])
    # max(p, 0.05) / 0.5, no clamp: the released script's local label.
    assert debias(
        probs, bias,
        saturate=False).tolist()[0] == pytest.approx([0.1, 0.6, 1.8])


def test_debias_broadcasts_per_image_bias():
    probs = torch.tensor([[0.2, 0.4], [0.2, 0.4]])
    bias = torch.tensor([[0.4, 0.8], [0.25, 1.0]])
    assert debias(probs, bias).flatten().tolist() == pytest.approx(
        [0.5, 0.5, 0.8, 0.4])


def test_debias_saturates_exactly_at_one():
    probs = torch.tensor([[0.85, 0.05]])
    bias, _ = estimate_clip_bias(
        torch.tensor([[0.8, 0.2], [0.2, 0.8]]), tau=1.0)
    labels = debias(probs, bias)
    assert labels[0, 0].item() == 1.0
    assert labels[0, 1].item() == pytest.approx(0.05 / 0.8)
