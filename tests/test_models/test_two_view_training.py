"""End to end: TwoViewClassifier with TwoViewDataPreprocessor and
CCDConsistencyHead trains as the authors' script does (CCD Sec. 3.4): the
weak view alone during warm-up, the strong view in a second forward after
it, so the weak view's BatchNorm statistics never include strong views."""
import copy

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

import ccd_mm  # noqa: F401  registers the components
from ccd_mm.core.consistency import soft_bce_with_logits

NUM_CLASSES = 3
MODEL_CFG = dict(
    type='TwoViewClassifier',
    backbone=dict(
        type='ResNet',
        depth=18,
        stem_channels=8,
        base_channels=8,
        out_indices=(3, )),
    head=dict(
        type='CCDConsistencyHead', num_classes=NUM_CLASSES, in_channels=64),
    data_preprocessor=dict(
        type='TwoViewDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True))
WEAK = [dict(type='RandomFlip', prob=0.5)]
STRONG = [
    dict(type='RandomFlip', prob=0.5),
    dict(type='NumpyToPIL', to_rgb=True),
    dict(
        type='torchvision/ColorJitter',
        brightness=0.5,
        contrast=0.5,
        saturation=0.5,
        hue=0.5),
    dict(type='PILToNumpy', to_bgr=True),
]

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def _model(consistency_active: bool):
    torch.manual_seed(0)
    model = MODELS.build(MODEL_CFG)
    model.init_weights()
    model.head.consistency_active = consistency_active
    return model.train()


def _images(seed, num_samples, size=32):
    generator = torch.Generator().manual_seed(seed)
    return [
        torch.randint(
            0, 256, (3, size, size), generator=generator, dtype=torch.uint8)
        for _ in range(num_samples)
    ]


def _two_view_batch(weak, strong):
    """Samples as MultiView + PackInputs pack them, collated."""
    scores = torch.linspace(0, 1,
                            len(weak) * NUM_CLASSES).view(
                                len(weak), NUM_CLASSES)
    return pseudo_collate([
        dict(inputs=[w, s], data_samples=DataSample().set_gt_score(score))
        for w, s, score in zip(weak, strong, scores)
    ])


def _record_backbone_batches(model):
    sizes = []
    model.backbone.register_forward_hook(
        lambda module, args, out: sizes.append(args[0].size(0)))
    return sizes


def _loss_and_gradients(model, batch):
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    loss = sum(losses.values())
    loss.backward()
    grads = {
        name: param.grad.clone()
        for name, param in model.named_parameters() if param.grad is not None
    }
    return loss.detach(), grads


def test_warmup_loss_and_gradients_do_not_depend_on_strong_views():
    weak = _images(0, 4)
    results = []
    for strong_seed in (1, 2):
        model = _model(consistency_active=False)
        sizes = _record_backbone_batches(model)
        results.append(
            _loss_and_gradients(model,
                                _two_view_batch(weak, _images(strong_seed,
                                                              4))))
        assert sizes == [4]  # the weak views alone
    (loss_a, grads_a), (loss_b, grads_b) = results
    assert loss_a.item() == loss_b.item()
    assert grads_a.keys() == grads_b.keys()
    assert len(grads_a) == len(list(model.parameters()))
    for name in grads_a:
        assert torch.equal(grads_a[name], grads_b[name]), name


def test_after_warmup_weak_logits_equal_a_weak_only_forward():
    weak, strong = _images(0, 4), _images(1, 4)
    model = _model(consistency_active=True)
    weak_only = copy.deepcopy(model)
    sizes = _record_backbone_batches(model)
    head_outputs = []
    model.head.register_forward_hook(
        lambda module, args, out: head_outputs.append(out.detach()))

    batch = _two_view_batch(weak, strong)
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')

    assert sizes == [4, 4]  # weak, then strong, in separate passes
    expected = weak_only(data['inputs'][0], mode='tensor')  # train mode
    torch.testing.assert_close(head_outputs[0], expected, rtol=0, atol=0)
    targets = torch.stack([s.gt_score for s in data['data_samples']])
    torch.testing.assert_close(losses['loss_pseudo_label'],
                               soft_bce_with_logits(expected, targets))
    assert losses['loss_consistency'].item() > 0


def _pipeline(cfgs):
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return Compose([TRANSFORMS.build(cfg) for cfg in cfgs])


def _packed_batch(pipeline, num_samples):
    rng = np.random.default_rng(0)
    samples = [
        pipeline(
            dict(
                img=rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
                gt_score=rng.random(NUM_CLASSES).astype(np.float32)))
        for _ in range(num_samples)
    ]
    return pseudo_collate(samples)


def test_train_step_on_the_two_view_pipeline_then_single_view_predict():
    model = _model(consistency_active=True)
    # the head's default init: conv weights drawn with std 0.01, bias 0
    assert model.head.cam_conv.weight.std().item() < 0.02
    assert model.head.cam_conv.bias.abs().sum().item() == 0.
    sizes = _record_backbone_batches(model)
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    head_weight = model.head.cam_conv.weight.detach().clone()

    train_pipeline = _pipeline([
        dict(type='MultiView', num_views=[1, 1], transforms=[WEAK, STRONG]),
        dict(type='PackInputs'),
    ])
    log_vars = model.train_step(
        _packed_batch(train_pipeline, 2), optim_wrapper)

    assert sizes == [2, 2]
    losses = {
        key: float(torch.as_tensor(log_vars[key]).detach())
        for key in ('loss', 'loss_pseudo_label', 'loss_consistency')
    }
    assert all(np.isfinite(value) for value in losses.values())
    assert losses['loss_consistency'] > 0
    assert losses['loss'] == pytest.approx(losses['loss_pseudo_label'] +
                                           losses['loss_consistency'])
    assert not torch.equal(model.head.cam_conv.weight, head_weight)

    val_pipeline = _pipeline([dict(type='PackInputs')])
    model.eval()
    predictions = model.val_step(_packed_batch(val_pipeline, 3))
    assert sizes[-1] == 3
    assert len(predictions) == 3
    for prediction in predictions:
        assert prediction.pred_score.shape == (NUM_CLASSES, )
        assert ((prediction.pred_score > 0) &
                (prediction.pred_score < 1)).all()
    cams = model.head.forward_cam(
        model.extract_feat(torch.zeros(3, 3, 32, 32)))
    assert cams.shape == (3, NUM_CLASSES, 1, 1)
