import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from ccd_mm.models.heads import KLMultiLabelHead

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def _head():
    """Head whose logits are the two input channels (identity 1x1 conv)."""
    head = KLMultiLabelHead(num_classes=2, in_channels=2)
    with torch.no_grad():
        head.cam_conv.weight.copy_(torch.eye(2)[:, :, None, None])
        head.cam_conv.bias.zero_()
    return head


def _feats(logits):
    return (torch.tensor(logits).view(-1, 2, 1, 1), )


def _samples(labels):
    return [DataSample().set_gt_score(torch.tensor(y)) for y in labels]


def test_kl_loss_on_hand_numbers():
    head = _head()
    # p = 0.5 on both classes; labels 1 and 0.25.
    loss = head.loss(_feats([[0.0, 0.0]]), _samples([[1.0, 0.25]]))
    kl_one = math.log(2)
    kl_quarter = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    assert set(loss) == {'loss_kl'}
    assert loss['loss_kl'].item() == pytest.approx(
        (kl_one + kl_quarter) / 2, abs=1e-6)


def test_kl_is_zero_at_the_labels_and_has_the_bce_gradient():
    head = _head()
    labels = [[0.75, 0.2]]
    at_labels = _feats([[math.log(3), math.log(0.25)]])
    # float32 logs of equal distributions: zero within a few ulps
    assert head.loss(at_labels, _samples(labels))['loss_kl'].item() == \
        pytest.approx(0.0, abs=1e-6)
    logits = torch.tensor([[0.3, -1.2]], requires_grad=True)
    head.loss((logits.view(1, 2, 1, 1), ), _samples(labels))['loss_kl'] \
        .backward()
    expected = (torch.sigmoid(logits.detach()) - torch.tensor(labels)) / 2
    torch.testing.assert_close(logits.grad, expected)
    logits.grad = None
    F.binary_cross_entropy_with_logits(logits, torch.tensor(labels)).backward()
    torch.testing.assert_close(logits.grad, expected)


def test_predict_scores_the_whole_image():
    head = _head()
    predictions = head.predict(_feats([[0.0, math.log(3)]]))
    assert predictions[0].pred_score.tolist() == pytest.approx([0.5, 0.75])
