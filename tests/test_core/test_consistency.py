import math

import pytest
import torch

from ccd_mm.core import consistency_loss, soft_bce_with_logits

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def test_soft_bce_mean_over_elements():
    # sigmoid(0) = 0.5 vs 0.5 -> ln 2; sigmoid(ln 3) = 0.75 vs 1 -> -ln 0.75.
    logits = torch.tensor([[0.0, math.log(3)]])
    targets = torch.tensor([[0.5, 1.0]])
    expected = (math.log(2) - math.log(0.75)) / 2
    assert soft_bce_with_logits(logits,
                                targets).item() == pytest.approx(expected)
    # The mean does not depend on how the elements are arranged.
    assert soft_bce_with_logits(logits.reshape(2, 1), targets.reshape(
        2, 1)).item() == pytest.approx(expected)


def test_consistency_loss_hand_value():
    strong = torch.tensor([[math.log(3), 0.0]])
    weak = torch.tensor([[0.0, math.log(3)]])
    # element 0: p = 0.75, target 0.5 -> -(0.5 ln 0.75 + 0.5 ln 0.25)
    # element 1: p = 0.5, target 0.75 -> ln 2
    first = -(0.5 * math.log(0.75) + 0.5 * math.log(0.25))
    expected = (first + math.log(2)) / 2
    assert consistency_loss(strong, weak).item() == pytest.approx(expected)


def test_consistency_loss_stops_gradient_into_weak():
    strong = torch.tensor([[math.log(3), 0.0]], requires_grad=True)
    weak = torch.tensor([[0.0, math.log(3)]], requires_grad=True)
    consistency_loss(strong, weak).backward()
    assert weak.grad is None
    # d/dz mean BCE = (sigmoid(z) - target) / numel
    assert strong.grad.tolist()[0] == pytest.approx([0.125, -0.125])


def test_consistency_is_zero_gradient_when_views_agree():
    logits = torch.tensor([[1.5, -2.0, 0.3]], requires_grad=True)
    consistency_loss(logits, logits).backward()
    # sigmoid(x) - sigmoid(x) of one float32 tensor: zero within an ulp.
    assert logits.grad.abs().max().item() == pytest.approx(0.0, abs=1e-7)
