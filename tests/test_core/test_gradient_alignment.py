import math

import pytest
import torch

from ccd_mm.core import (alignment_loss, alignment_psi,
                         gradient_alignment_step, labels_to_latent)

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def test_psi_gaussian_values():
    y = torch.tensor([0.5, 0.0, 1.0, 0.2, 0.8])
    psi = alignment_psi(y, c1=1.0, sigma=0.5, c2=0.1)
    peak = 1.0 / (0.5 * math.sqrt(2 * math.pi))
    assert psi[0].item() == pytest.approx(peak + 0.1)
    # (0 - 0.5)^2 / (2 * 0.25) = 0.5
    assert psi[1].item() == pytest.approx(peak * math.exp(-0.5) + 0.1)
    assert psi[2].item() == pytest.approx(psi[1].item())
    assert psi[3].item() == pytest.approx(psi[4].item())
    assert psi.argmax().item() == 0


def test_alignment_loss_bernoulli_kl_hand_values():
    pred = torch.tensor([[0.5, 0.5, 0.5, 0.5]])
    label = torch.tensor([[1.0, 0.0, 0.5, 0.25]])
    terms = alignment_loss(pred, label, reduction='none')
    expected = [
        math.log(2),
        math.log(2), 0.0, 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    ]
    # float32 logs against Python's: a few ulps of terms below 1 (the exact
    # zero term is why the tolerance is absolute)
    assert terms.tolist()[0] == pytest.approx(expected, abs=1e-6)
    assert alignment_loss(pred, label).item() == pytest.approx(
        sum(expected) / 4, abs=1e-6)
    assert alignment_loss(pred, label, reduction='sum').item() == \
        pytest.approx(sum(expected), abs=1e-6)
    with pytest.raises(ValueError):
        alignment_loss(pred, label, reduction='max')


def test_alignment_loss_is_bce_minus_label_entropy():
    gen = torch.Generator().manual_seed(0)
    pred = torch.rand((3, 4), generator=gen) * 0.9 + 0.05
    label = torch.rand((3, 4), generator=gen)
    bce = torch.nn.functional.binary_cross_entropy(
        pred, label, reduction='none')
    label_entropy = -(label * label.log() + (1 - label) * (1 - label).log())
    torch.testing.assert_close(
        alignment_loss(pred, label, reduction='none'), bce - label_entropy)


def test_step_closed_form_hand_numbers():
    latent = torch.tensor([[0.0]])  # y = 0.5
    pred = torch.tensor([[0.75]])  # logit = ln 3
    # psi(0.5) = 1 / sqrt(2 pi); grad = 0 - ln 3
    new = gradient_alignment_step(latent, pred, c1=1.0, sigma=1.0, c2=0.0)
    assert new.item() == pytest.approx(math.log(3) / math.sqrt(2 * math.pi))
    # through the sigmoid: grad * y (1 - y) = -ln 3 / 4
    new = gradient_alignment_step(
        latent, pred, 1.0, 1.0, 0.0, gradient_wrt='latent')
    assert new.item() == pytest.approx(
        math.log(3) / 4 / math.sqrt(2 * math.pi))


def test_step_with_unit_psi_lands_on_prediction():
    latent = torch.tensor([[-3.0, 0.5, 2.0]])
    pred = torch.tensor([[0.9, 0.2, 0.5]])
    new = gradient_alignment_step(latent, pred, c1=0.0, sigma=1.0, c2=1.0)
    torch.testing.assert_close(new, torch.logit(pred))
    half = gradient_alignment_step(latent, pred, c1=0.0, sigma=1.0, c2=0.5)
    torch.testing.assert_close(half, (latent + torch.logit(pred)) / 2)


@pytest.mark.parametrize('gradient_wrt', ['label', 'latent'])
def test_step_matches_autograd_of_summed_kl(gradient_wrt):
    gen = torch.Generator().manual_seed(0)
    latent = torch.randn((3, 5), generator=gen)
    pred = torch.rand((3, 5), generator=gen) * 0.9 + 0.05
    c1, sigma, c2 = 0.5, 0.2, 0.05
    if gradient_wrt == 'label':
        leaf = torch.sigmoid(latent).requires_grad_()
        alignment_loss(pred, leaf, reduction='sum').backward()
    else:
        leaf = latent.clone().requires_grad_()
        alignment_loss(pred, torch.sigmoid(leaf), reduction='sum').backward()
    expected = latent - alignment_psi(torch.sigmoid(latent), c1, sigma,
                                      c2) * leaf.grad
    new = gradient_alignment_step(
        latent, pred, c1, sigma, c2, gradient_wrt=gradient_wrt)
    # Autograd's gradient against the closed form: float32 sigmoids and
    # logs of a few steps, within 1e-5; a wrong sign or psi is off by 1e-1.
    torch.testing.assert_close(new, expected, rtol=1e-4, atol=1e-5)


def test_step_moves_uncertain_labels_more_towards_prediction():
    labels = torch.tensor([[0.5, 0.05, 0.95]])
    latent = labels_to_latent(labels)
    before = latent.clone()
    pred = torch.tensor([[0.9, 0.9, 0.1]], requires_grad=True)
    new = gradient_alignment_step(latent, pred, c1=0.1, sigma=0.1, c2=0.01)
    assert not new.requires_grad  # predictions are fixed
    assert torch.equal(latent, before)  # not modified in place
    moved = torch.sigmoid(new) - labels
    # each label moves towards its prediction ...
    assert moved[0, 0] > 0 and moved[0, 1] > 0 and moved[0, 2] < 0
    # ... and the uncertain one moves most.
    assert moved[0, 0].abs() > 5 * moved[0, 1].abs()
    assert moved[0, 0].abs() > 5 * moved[0, 2].abs()
    # hand numbers: psi(0.5) = 0.1 / (0.1 sqrt(2 pi)) + 0.01,
    # new latent = 0 + psi(0.5) * (logit(0.9) - 0) = psi(0.5) * ln 9
    psi_half = 1 / math.sqrt(2 * math.pi) + 0.01
    # float32 psi and logit against Python floats: a few ulps each
    assert new[0, 0].item() == pytest.approx(psi_half * math.log(9), rel=1e-5)


def test_step_rejects_unknown_mode():
    with pytest.raises(ValueError):
        gradient_alignment_step(
            torch.zeros(1, 1),
            torch.full((1, 1), 0.5),
            1.0,
            1.0,
            0.0,
            gradient_wrt='both')


def test_labels_to_latent_inverse_of_sigmoid_and_finite():
    labels = torch.tensor([0.5, 0.75, 0.0, 1.0])
    latent = labels_to_latent(labels)
    assert torch.isfinite(latent).all()
    # Label 0 is clamped to float32's 1e-6: its logit is -13.8 up to
    # float32 rounding, far inside the relative 1e-3 below.
    assert latent[:2].tolist() == pytest.approx([0.0, math.log(3)])
    assert latent[2].item() == pytest.approx(
        math.log(1e-6 / (1 - 1e-6)), rel=1e-3)
    # sigmoid(logit(p)) in float32: p within a few ulps of 1 (6e-8 each).
    torch.testing.assert_close(
        torch.sigmoid(latent), labels, atol=2e-6, rtol=0)
