import pytest
import torch
from mmengine.dataset import default_collate, pseudo_collate
from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.structures import DataSample

from ccd_mm.models.data_preprocessors import TwoViewDataPreprocessor

NORM = dict(mean=[10., 20., 30.], std=[2., 4., 5.], to_rgb=True)

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def _image(value, size=4):
    """uint8 BGR image whose channel c holds value + c."""
    channels = torch.arange(3, dtype=torch.uint8).view(3, 1, 1) + value
    return channels.expand(3, size, size).clone()


def _packed(num_samples, strong_size=4):
    """Samples as MultiView + PackInputs packs them: weak view of sample i
    filled from 10 * i, strong view from 100 + 10 * i."""
    return [
        dict(
            inputs=[_image(10 * i),
                    _image(100 + 10 * i, strong_size)],
            data_samples=DataSample().set_gt_score(torch.tensor([i, 1.])))
        for i in range(num_samples)
    ]


def _expected_pixel(value):
    """Top-left pixel after BGR->RGB and normalisation, by hand."""
    bgr = torch.tensor([value, value + 1, value + 2], dtype=torch.float32)
    return (bgr.flip(0) - torch.tensor(NORM['mean'])) / torch.tensor(
        NORM['std'])


@pytest.mark.parametrize('collate', [pseudo_collate, default_collate])
def test_two_views_become_a_weak_and_a_strong_batch(collate):
    preprocessor = TwoViewDataPreprocessor(**NORM)
    out = preprocessor(collate(_packed(3)), training=True)
    weak, strong = out['inputs']
    assert weak.shape == strong.shape == (3, 3, 4, 4)
    assert len(out['data_samples']) == 3
    for i in range(3):
        torch.testing.assert_close(weak[i, :, 0, 0], _expected_pixel(10 * i))
        torch.testing.assert_close(strong[i, :, 0, 0],
                                   _expected_pixel(100 + 10 * i))
    scores = torch.stack([s.gt_score for s in out['data_samples']])
    torch.testing.assert_close(scores[:, 0], torch.tensor([0., 1., 2.]))


def test_each_view_matches_cls_preprocessor():
    samples = _packed(2)
    out = TwoViewDataPreprocessor(**NORM)(pseudo_collate(samples), True)
    for view, batch in enumerate(out['inputs']):
        stock = ClsDataPreprocessor(**NORM)(dict(
            inputs=[s['inputs'][view] for s in samples], data_samples=None),
                                            True)
        torch.testing.assert_close(batch, stock['inputs'])


def test_views_of_different_sizes_are_padded_per_view():
    preprocessor = TwoViewDataPreprocessor(pad_size_divisor=8, pad_value=-1)
    weak, strong = preprocessor(
        pseudo_collate(_packed(2, strong_size=6)), True)['inputs']
    assert weak.shape == strong.shape == (2, 3, 8, 8)
    assert weak[0, 0, 5, 5].item() == -1.
    assert strong[0, 0, 5, 5].item() == 100.
    assert strong[0, 0, 7, 7].item() == -1.


def test_onehot_scores_are_added_once():
    samples = [
        dict(
            inputs=[_image(0), _image(1)],
            data_samples=DataSample().set_gt_label([1]))
    ]
    out = TwoViewDataPreprocessor(
        to_onehot=True, num_classes=3)(pseudo_collate(samples), True)
    torch.testing.assert_close(out['data_samples'][0].gt_score,
                               torch.tensor([0, 1, 0]))


@pytest.mark.parametrize('collate', [pseudo_collate, default_collate])
def test_single_view_is_exactly_cls_preprocessor(collate):
    samples = [
        dict(
            inputs=_image(7 * i),
            data_samples=DataSample().set_gt_score(torch.tensor([0.5])))
        for i in range(3)
    ]
    ours = TwoViewDataPreprocessor(**NORM)(collate(samples), False)
    stock = ClsDataPreprocessor(**NORM)(collate(samples), False)
    assert ours['inputs'].shape == (3, 3, 4, 4)
    torch.testing.assert_close(ours['inputs'], stock['inputs'])
    torch.testing.assert_close(ours['inputs'][1, :, 0, 0], _expected_pixel(7))


def test_batch_augments_refused_on_two_views():
    preprocessor = TwoViewDataPreprocessor(
        num_classes=2,
        batch_augments=dict(augments=dict(type='Mixup', alpha=1.)))
    with pytest.raises(ValueError, match='batch_augments'):
        preprocessor(pseudo_collate(_packed(2)), training=True)
