import math

import pytest
import torch
from mmpretrain.structures import DataSample

from ccd_mm.models.heads import CAMMultiLabelHead

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def _identity_head(num_classes, **kwargs):
    """Head whose 1x1 conv copies feature channel c to class map c."""
    head = CAMMultiLabelHead(
        num_classes=num_classes, in_channels=num_classes, **kwargs)
    with torch.no_grad():
        head.cam_conv.weight.copy_(torch.eye(num_classes)[:, :, None, None])
        head.cam_conv.bias.zero_()
    return head


def _samples(scores):
    return [DataSample().set_gt_score(torch.tensor(s)) for s in scores]


def test_cam_shape_and_gap_equals_logits():
    torch.manual_seed(0)
    head = CAMMultiLabelHead(num_classes=5, in_channels=8)
    feats = (torch.randn(3, 8, 4, 6), )
    cam = head.forward_cam(feats)
    logits = head(feats)
    assert cam.shape == (3, 5, 4, 6)
    assert logits.shape == (3, 5)
    torch.testing.assert_close(logits, cam.mean(dim=(2, 3)))
    # GAP commutes with the 1x1 conv: logits = W . GAP(feat) + b.
    pooled = feats[0].mean(dim=(2, 3))
    weight = head.cam_conv.weight[:, :, 0, 0]
    torch.testing.assert_close(logits, pooled @ weight.T + head.cam_conv.bias)


def test_positive_cam_scale_on_hand_numbers():
    head = CAMMultiLabelHead(
        num_classes=2, in_channels=1, positive_cam_scale=3.0)
    with torch.no_grad():
        head.cam_conv.weight.copy_(torch.tensor([1., -1.]).view(2, 1, 1, 1))
        head.cam_conv.bias.zero_()
    feats = (torch.tensor([[1., -2.], [3., -4.]]).view(1, 1, 2, 2), )

    # class 0 sees [1, -2, 3, -4], class 1 sees [-1, 2, -3, 4]
    assert not head.cam_scale_on
    assert 'cam_scale_on' in head.state_dict()  # checkpoints carry it
    torch.testing.assert_close(head(feats), torch.tensor([[-0.5, 0.5]]))

    head.cam_scale_on.fill_(True)
    expected = torch.tensor([[(3 - 2 + 9 - 4) / 4, (-1 + 6 - 3 + 12) / 4]])
    torch.testing.assert_close(head(feats), expected)
    # the CAM itself stays unscaled
    torch.testing.assert_close(head.forward_cam(feats)[0, 0], feats[0][0, 0])
    # unless asked for the map the logits pool
    torch.testing.assert_close(
        head.forward_cam(feats, scaled=True)[0, 0],
        torch.tensor([[3., -2.], [9., -4.]]))
    head.cam_scale_on.fill_(False)
    torch.testing.assert_close(
        head.forward_cam(feats, scaled=True)[0, 0], feats[0][0, 0])


def test_loss_against_hand_computation():
    head = _identity_head(2)
    logits = torch.tensor([[math.log(3.), 0.], [0., -math.log(3.)]])
    feats = (logits[:, :, None, None], )
    losses = head.loss(feats, _samples([[1., 0.2], [0.3, 0.]]))
    # sigmoid(log 3) = 0.75, sigmoid(0) = 0.5, sigmoid(-log 3) = 0.25
    expected = (-math.log(0.75) + math.log(2) + math.log(2) -
                math.log(0.75)) / 4
    assert set(losses) == {'loss_pseudo_label'}
    assert losses['loss_pseudo_label'].item() == pytest.approx(expected)


def test_loss_requires_gt_score():
    head = _identity_head(2)
    feats = (torch.zeros(2, 2, 1, 1), )
    samples = _samples([[1., 0.]]) + [DataSample().set_gt_label([1])]
    with pytest.raises(KeyError, match='gt_score'):
        head.loss(feats, samples)


def test_pooled_features_are_rejected():
    head = _identity_head(2)
    with pytest.raises(ValueError, match='unpooled'):
        head((torch.zeros(2, 2), ))


def test_predict_scores_are_sigmoid_of_logits():
    head = _identity_head(3, thr=0.6)
    logits = torch.tensor([[2., 0., -1.]])
    predictions = head.predict((logits[:, :, None, None], ))
    torch.testing.assert_close(predictions[0].pred_score,
                               torch.sigmoid(logits[0]))
    assert predictions[0].pred_label.tolist() == [0]


def test_positive_cam_scale_must_be_positive():
    with pytest.raises(ValueError, match='positive_cam_scale'):
        CAMMultiLabelHead(num_classes=2, in_channels=1, positive_cam_scale=0)
