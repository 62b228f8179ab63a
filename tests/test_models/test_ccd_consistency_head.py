import math

import pytest
import torch
from mmpretrain.structures import DataSample

from ccd_mm.models.heads import CCDConsistencyHead

LOG3 = math.log(3.)

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def _identity_head(num_classes, **kwargs):
    """Head whose 1x1 conv copies feature channel c to class map c, so the
    features given to it are its logits."""
    head = CCDConsistencyHead(
        num_classes=num_classes, in_channels=num_classes, **kwargs)
    with torch.no_grad():
        head.cam_conv.weight.copy_(torch.eye(num_classes)[:, :, None, None])
        head.cam_conv.bias.zero_()
    return head


def _samples(scores):
    return [DataSample().set_gt_score(torch.tensor(s)) for s in scores]


def _views():
    """Features of one image's weak and strong view; with the identity head
    they are its logits."""
    weak = torch.tensor([[LOG3, 0.]])[:, :, None, None]
    strong = torch.tensor([[0., LOG3]])[:, :, None, None]
    return weak, strong


def test_two_view_loss_against_hand_computation():
    head = _identity_head(2, consistency_weight=0.5)
    head.consistency_active = True
    weak, strong = _views()
    losses = head.loss((weak, ),
                       _samples([[1., 0.2]]),
                       strong_feats=(strong, ))

    # weak: sigmoid = [0.75, 0.5] against [1, 0.2]
    pseudo = (-math.log(0.75) + math.log(2)) / 2
    # strong: sigmoid = [0.5, 0.75] against the weak sigmoid [0.75, 0.5]
    consistency = (math.log(2) - 0.5 * math.log(0.75) -
                   0.5 * math.log(0.25)) / 2
    assert set(losses) == {'loss_pseudo_label', 'loss_consistency'}
    assert losses['loss_pseudo_label'].item() == pytest.approx(pseudo)
    assert losses['loss_consistency'].item() == pytest.approx(0.5 *
                                                              consistency)


def test_consistency_off_is_zero_and_ignores_strong_features():
    head = _identity_head(2)
    assert head.consistency_active is False
    weak, strong = _views()
    strong.requires_grad_()
    losses = head.loss((weak, ),
                       _samples([[1., 0.2]]),
                       strong_feats=(strong, ))
    assert losses['loss_consistency'].item() == 0.
    sum(losses.values()).backward()
    assert strong.grad is None


def test_consistency_switch_and_stop_gradient_on_weak_view():
    head = _identity_head(2)
    samples = _samples([[1., 0.2]])
    weak_grads = []
    for active in (False, True):
        head.consistency_active = active
        weak, strong = (v.clone().requires_grad_() for v in _views())
        losses = head.loss((weak, ), samples, strong_feats=(strong, ))
        sum(losses.values()).backward()
        weak_grads.append(weak.grad.clone())
    assert losses['loss_consistency'].item() > 0.
    assert strong.grad.abs().sum().item() > 0.
    # the weak prediction is only a target: the consistency term adds
    # nothing to the weak view's gradient
    torch.testing.assert_close(weak_grads[0], weak_grads[1])


def test_single_view_batch_behaves_like_cam_head():
    head = _identity_head(2)
    weak, _ = _views()
    losses = head.loss((weak, ), _samples([[1., 0.2]]))
    expected = (-math.log(0.75) + math.log(2)) / 2
    assert losses['loss_pseudo_label'].item() == pytest.approx(expected)
    assert losses['loss_consistency'].item() == 0.

    head.consistency_active = True
    with pytest.raises(ValueError, match='single view'):
        head.loss((weak, ), _samples([[1., 0.2]]))
