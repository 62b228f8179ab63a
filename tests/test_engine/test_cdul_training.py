"""CDUL end to end on a ShapesML fixture: global-local initial labels, the
gradient-alignment steps of the latent labels, resume, and ground-truth
isolation."""
import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ccd_mm.core import (cdul_global_local, gradient_alignment_step,
                         labels_to_latent)
from ccd_mm.datasets import CLIPPseudoLabelDataset, PseudoLabelTable
from ccd_mm.engine.hooks import (CDULInitialLabelHook, GradientAlignmentHook,
                                 cdul_initial_label_hook)
from ccd_mm.labeling import classifier_scores, label_grid_snippets
from ccd_mm.teachers import CLIPTeacher
from tests.fixtures.ccd_shapes_run import SIZE, load, make_shapes_root
from tests.fixtures.cdul_shapes_run import WARMUP_EPOCHS, cdul_shapes_config
from tests.fixtures.runner_names import runner_from_cfg

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def train(cfg):
    runner = runner_from_cfg(cfg)
    runner.train()
    return runner


def alignment_hook(runner) -> GradientAlignmentHook:
    return next(
        hook for hook in runner.hooks
        if isinstance(hook, GradientAlignmentHook))


@pytest.fixture(scope='module')
def finished_run(tmp_path_factory, tiny_clip_resnet):
    root = tmp_path_factory.mktemp('run')
    data_root = make_shapes_root(root / 'data')
    return train(
        cdul_shapes_config(data_root, tiny_clip_resnet, str(root / 'work')))


def test_initial_labels_are_the_global_local_aggregate(finished_run,
                                                       tiny_clip_resnet):
    dataset = finished_run.train_dataloader.dataset
    table = dataset.label_table
    assert bool(table.labeled) and bool(table.valid.all())
    teacher = CLIPTeacher(
        **tiny_clip_resnet, class_names=dataset.class_prompts)
    snippets = label_grid_snippets(
        teacher,
        dataset.image_paths(),
        grid=3,
        snippet_size=SIZE,
        num_workers=0)
    expected = cdul_global_local(table.global_scores, snippets, 0.2, 1.0)
    torch.testing.assert_close(table.initial_labels, expected)
    # lambda = 1 is the maximum of the global and the aggregate scores
    assert (table.initial_labels >= table.global_scores - 1e-7).all()
    assert (table.initial_labels > table.global_scores).any()


def test_run_steps_latent_labels_and_checkpoints_them(finished_run):
    runner = finished_run
    table = runner.train_dataloader.dataset.label_table
    initial_latent = labels_to_latent(table.initial_labels)
    assert not torch.allclose(table.latent_logits, initial_latent)
    assert runner.message_hub.get_scalar('train/label_change').current() > 0
    assert runner.message_hub.get_scalar('train/loss_kl').current() >= 0
    # one step before each epoch after warm-up (epochs 2 and 3 of 4)
    steps = runner.message_hub.get_scalar('train/label_drift').data[0]
    assert len(steps) == 4 - WARMUP_EPOCHS
    final = load(os.path.join(runner.work_dir, 'epoch_4.pth'))
    saved = final[PseudoLabelTable.checkpoint_key]['fields']
    assert torch.equal(saved['latent_logits'], table.latent_logits)
    assert torch.equal(saved['initial_labels'], table.initial_labels)


def test_step_moves_labels_towards_classifier_predictions(
        finished_run, monkeypatch):
    runner = finished_run
    # keep the finished run's logged history for the other tests
    monkeypatch.setattr(runner.message_hub, 'update_scalar',
                        lambda *args, **kwargs: None)
    dataset = runner.train_dataloader.dataset
    table = dataset.label_table
    hook = alignment_hook(runner)
    before = table.latent_logits.clone()
    model = runner.model.eval()
    predictions = classifier_scores(
        model, dataset.image_paths(), SIZE, num_workers=0)
    try:
        hook.update(runner)
        after = table.latent_logits.clone()
    finally:  # the other tests compare with the finished run's table
        table.write('latent_logits', before)
    torch.testing.assert_close(
        after,
        gradient_alignment_step(before, predictions, hook.c1, hook.sigma,
                                hook.c2, hook.gradient_wrt))
    labels, new_labels = torch.sigmoid(before), torch.sigmoid(after)
    moved = new_labels - labels
    gap = predictions - labels
    assert (moved * gap >= 0).all()  # towards the prediction ...
    assert (moved.abs() <= gap.abs() + 1e-6).all()  # ... never past it
    # psi(0.5) / psi(0.05) > 10: uncertain labels take much larger steps
    target_gap = torch.logit(predictions, eps=1e-6) - before
    logit_step = (after - before) / target_gap
    movable = target_gap.abs() > 0.1
    uncertain = movable & ((labels - 0.5).abs() < 0.1)
    confident = movable & ((labels - 0.5).abs() > 0.45)
    assert uncertain.any() and confident.any()
    assert logit_step[uncertain].min() > 10 * logit_step[confident].max()


def test_resume_restores_stepped_latent_labels(tmp_path, tiny_clip_resnet,
                                               finished_run, monkeypatch):
    reference = finished_run
    checkpoint = os.path.join(reference.work_dir, 'epoch_3.pth')
    saved = load(checkpoint)[PseudoLabelTable.checkpoint_key]['fields']
    # epoch 3's checkpoint holds labels after the first step
    assert not torch.allclose(saved['latent_logits'],
                              labels_to_latent(saved['initial_labels']))

    def teacher_rerun(*args, **kwargs):
        pytest.fail('teacher re-run on resume')

    monkeypatch.setattr(cdul_initial_label_hook, 'label_global_views',
                        teacher_rerun)
    monkeypatch.setattr(cdul_initial_label_hook, 'label_grid_snippets',
                        teacher_rerun)
    data_root = reference.train_dataloader.dataset.dataset.data_root
    cfg = cdul_shapes_config(data_root, tiny_clip_resnet,
                             str(tmp_path / 'work'))
    cfg.resume = True
    cfg.load_from = checkpoint
    resumed = train(cfg)
    table = resumed.train_dataloader.dataset.label_table
    expected = reference.train_dataloader.dataset.label_table
    # the last step started from the restored labels and weights
    for name in ('global_scores', 'initial_labels', 'latent_logits'):
        torch.testing.assert_close(
            table.fields[name], expected.fields[name], msg=name)
    for (name, weight), (_, expected_weight) in zip(
            resumed.model.state_dict().items(),
            reference.model.state_dict().items()):
        # Bit-identical: the same operations on the same shapes.
        assert torch.equal(weight, expected_weight), name


def test_train_ground_truth_does_not_reach_training(tmp_path, tiny_clip_resnet,
                                                    finished_run):
    """Shuffling the train split's labels changes nothing: teacher scores,
    initial and latent labels, losses and weights are bit-identical."""
    data_root = make_shapes_root(tmp_path / 'data', permute_train_labels=True)
    runner = train(
        cdul_shapes_config(data_root, tiny_clip_resnet,
                           str(tmp_path / 'work')))
    reference = finished_run
    inner = runner.train_dataloader.dataset.dataset
    inner_ref = reference.train_dataloader.dataset.dataset
    assert [inner.get_data_info(i)['gt_label'] for i in range(3)] != \
        [inner_ref.get_data_info(i)['gt_label'] for i in range(3)]
    table = runner.train_dataloader.dataset.label_table
    expected = reference.train_dataloader.dataset.label_table
    for name, field in table.fields.items():
        assert torch.equal(field, expected.fields[name]), name
    for key in ('loss', 'loss_kl', 'label_change', 'label_drift'):
        np.testing.assert_array_equal(
            runner.message_hub.get_scalar(f'train/{key}').data[0],
            reference.message_hub.get_scalar(f'train/{key}').data[0], key)
    for weight, expected_weight in zip(runner.model.state_dict().values(),
                                       reference.model.state_dict().values()):
        assert torch.equal(weight, expected_weight)


def test_missing_table_fields_fail_before_labeling(finished_run,
                                                   tiny_clip_resnet):
    data_root = finished_run.train_dataloader.dataset.dataset.data_root
    dataset = CLIPPseudoLabelDataset(
        dataset=dict(type='ShapesML', data_root=data_root, split='train'))
    runner = SimpleNamespace(train_dataloader=SimpleNamespace(dataset=dataset))
    hook = CDULInitialLabelHook(
        teacher=dict(type='CLIPTeacher', **tiny_clip_resnet))
    with pytest.raises(KeyError, match='latent_logits'):
        hook.before_train(runner)


def test_psi_that_overshoots_is_refused():
    with pytest.raises(ValueError, match='overshoots'):
        GradientAlignmentHook(c1=1.0, sigma=0.2)  # psi(0.5) ~ 2
    GradientAlignmentHook(c1=1.0, sigma=0.2, gradient_wrt='latent')
