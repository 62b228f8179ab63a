"""CCD end to end on a ShapesML fixture: initial labels, CAM update, warm-up
switch, label-free selection, resume, and ground-truth isolation."""
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from ccd_mm.core import binarize_saturated
from ccd_mm.datasets import PseudoLabelTable
from ccd_mm.datasets.shapesml_generator import generate_shapesml
from ccd_mm.engine.hooks import clip_initial_label_hook
from ccd_mm.engine.hooks.label_free_checkpoint_hook import pseudo_label_map
from tests.fixtures.ccd_shapes_run import (SIZE, ccd_shapes_config, load,
                                           make_shapes_root)
from tests.fixtures.runner_names import runner_from_cfg


def train(cfg):
    runner = runner_from_cfg(cfg)
    runner.train()
    return runner


def assert_same_weights(runner, reference):
    """A resumed run ends where the uninterrupted one did: bit-identical,
    as the same float32 operations on the same shapes are on one machine
    (tests/fixtures/tolerances.py)."""
    expected = reference.model.state_dict()
    for name, weight in runner.model.state_dict().items():
        assert torch.equal(weight, expected[name]), name


@pytest.fixture(scope='module')
def finished_run(tmp_path_factory, tiny_clip_resnet):
    root = tmp_path_factory.mktemp('run')
    data_root = make_shapes_root(root / 'data')
    return train(
        ccd_shapes_config(data_root, tiny_clip_resnet, str(root / 'work')))


def test_run_updates_labels_and_writes_both_checkpoints(finished_run):
    runner = finished_run
    dataset = runner.train_dataloader.dataset
    table = dataset.label_table
    assert bool(table.labeled) and int(table.update_epoch) == 2
    assert table.local_scores.abs().sum() > 0
    head = runner.model.head
    assert head.consistency_active  # epochs 2 and 3 are past warm-up
    work_dir = runner.work_dir
    assert os.path.exists(os.path.join(work_dir, 'epoch_4.pth'))
    best = load(os.path.join(work_dir, 'best_label_free.pth'))
    selection = best['label_free_selection']
    assert len(selection['history']) == selection['selected_epoch']
    # the checkpoint is saved when the kept epoch ends: its meta names it
    assert best['meta']['epoch'] == selection['selected_epoch']
    assert selection['rule'] == 'last'  # the default rule
    # the table travels with every checkpoint, once
    final = load(os.path.join(work_dir, 'epoch_4.pth'))
    assert torch.equal(
        final[PseudoLabelTable.checkpoint_key]['fields']['local_scores'],
        table.local_scores)
    record = json.load(open(os.path.join(work_dir, 'cam_boxes_epoch_3.json')))
    assert len(record['records']) == 3
    # every image's proposals, for box-quality reports; the first ones are
    # those of the records
    proposals = json.load(
        open(os.path.join(work_dir, 'cam_proposals_epoch_3.json')))
    assert proposals['view_size'] == 32
    images = proposals['images']
    assert [image['img_path'] for image in images] == dataset.image_paths()
    for image, shown in zip(images, record['records']):
        assert image['boxes'] == shown['boxes']
        assert image['classes'] == shown['classes']
    num_boxes = 0
    for image in images:
        assert len(image['boxes']) == len(image['classes'])
        for x1, y1, x2, y2 in image['boxes']:
            assert 0 <= x1 < x2 <= 32 and 0 <= y1 < y2 <= 32
        num_boxes += len(image['boxes'])
    assert num_boxes > 0
    # the selection's inputs, for comparing rules after the run
    recorded = torch.load(
        os.path.join(work_dir, 'label_free_scores_epoch_4.pth'),
        weights_only=True)
    assert recorded['scores'].shape == recorded['targets'].shape == (16, 12)
    assert torch.equal(recorded['targets'], dataset.current_targets())
    valid = recorded['valid']
    assert final['label_free_selection']['history'][-1] == pytest.approx(
        pseudo_label_map(recorded['scores'][valid],
                         binarize_saturated(recorded['targets'][valid])))


def test_resume_after_update_restores_table_and_weights(
        tmp_path, tiny_clip_resnet, finished_run, monkeypatch):
    data_root = finished_run.train_dataloader.dataset.dataset.data_root
    cfg = ccd_shapes_config(
        data_root, tiny_clip_resnet, str(tmp_path / 'work'), max_epochs=3)
    train(cfg)  # "killed" after the update epoch
    # A resumed run must not run the teacher again.
    monkeypatch.setattr(clip_initial_label_hook, 'label_global_views',
                        lambda *args, **kwargs: pytest.fail('teacher re-run'))
    cfg = ccd_shapes_config(
        data_root, tiny_clip_resnet, str(tmp_path / 'work'), max_epochs=4)
    cfg.resume = True
    cfg.load_from = str(tmp_path / 'work/epoch_3.pth')
    resumed = train(cfg)
    table = resumed.train_dataloader.dataset.label_table
    reference = finished_run.train_dataloader.dataset.label_table
    assert int(table.update_epoch) == 2
    assert torch.equal(table.local_scores, reference.local_scores)
    assert_same_weights(resumed, finished_run)


def test_resume_after_the_data_directory_moved(tmp_path, tiny_clip_resnet,
                                               finished_run, monkeypatch):
    """The same images under another folder: the table is restored (the log
    says from where) and the run ends as the uninterrupted one."""
    data_root = finished_run.train_dataloader.dataset.dataset.data_root
    moved_root = shutil.copytree(data_root, tmp_path / 'moved')
    monkeypatch.setattr(clip_initial_label_hook, 'label_global_views',
                        lambda *args, **kwargs: pytest.fail('teacher re-run'))
    cfg = ccd_shapes_config(
        str(moved_root), tiny_clip_resnet, str(tmp_path / 'work'))
    cfg.resume = True
    cfg.load_from = os.path.join(finished_run.work_dir, 'epoch_3.pth')
    cfg.log_level = 'INFO'
    resumed = train(cfg)
    table = resumed.train_dataloader.dataset.label_table
    reference = finished_run.train_dataloader.dataset.label_table
    for name, value in reference.fields.items():
        assert torch.equal(table.fields[name], value), name
    log = (Path(resumed.log_dir) / f'{resumed.timestamp}.log').read_text()
    assert (f'its images were under {reference.image_root}, now under '
            f'{table.image_root}') in log
    assert_same_weights(resumed, finished_run)


def test_resume_on_another_image_list_stops(tmp_path, tiny_clip_resnet,
                                            finished_run):
    """Labeling again would skip the update epoch that is past: the run
    stops before training, saying what differs and how to go on."""
    data_root = tmp_path / 'data'
    generate_shapesml(
        str(data_root), seed=0, num_train=15, num_test=12, image_size=SIZE)
    cfg = ccd_shapes_config(
        str(data_root), tiny_clip_resnet, str(tmp_path / 'work'))
    cfg.resume = True
    cfg.load_from = os.path.join(finished_run.work_dir, 'epoch_3.pth')
    with pytest.raises(RuntimeError) as error:
        train(cfg)
    message = str(error.value)
    assert 'Cannot resume at iteration 12' in message
    assert '16 images under' in message and '15 images under' in message
    assert 'load_from' in message
    assert not os.path.exists(tmp_path / 'work' / 'epoch_4.pth')


def resume_config(tmp_path, data_root, tiny_clip_resnet, checkpoint):
    cfg = ccd_shapes_config(
        str(data_root), tiny_clip_resnet, str(tmp_path / 'work'))
    cfg.resume = True
    cfg.load_from = str(checkpoint)
    cfg.log_level = 'INFO'
    return cfg


def test_resume_onto_other_files_of_the_same_names_stops(
        tmp_path, tiny_clip_resnet, finished_run):
    """Another seed of the same split: every relative path matches, no
    image does. The run stops before its first iteration, naming files."""
    data_root = tmp_path / 'data'
    generate_shapesml(
        str(data_root), seed=1, num_train=16, num_test=12, image_size=SIZE)
    runner = runner_from_cfg(
        resume_config(tmp_path, data_root, tiny_clip_resnet,
                      os.path.join(finished_run.work_dir, 'epoch_3.pth')))
    with pytest.raises(RuntimeError) as error:
        runner.train()
    message = str(error.value)
    assert 'Cannot resume at iteration 12' in message
    assert '16 of the 16 images under' in message
    assert 'e.g. 000000.png, 000001.png, 000002.png' in message
    assert 'epoch_3.pth' in message
    assert 'load_from' in message
    assert runner.iter == 12  # restored, not one iteration further
    assert not os.path.exists(tmp_path / 'work' / 'epoch_4.pth')


def saved_with_table(tmp_path, finished_run, **fields):
    """epoch_3.pth of ``finished_run`` with table fields replaced."""
    checkpoint = load(os.path.join(finished_run.work_dir, 'epoch_3.pth'))
    checkpoint[PseudoLabelTable.checkpoint_key]['fields'].update(fields)
    path = tmp_path / 'edited.pth'
    torch.save(checkpoint, path)
    return path


def nan_rows(values, rows=(3, 5)):
    values = values.clone()
    values[list(rows)] = float('nan')
    return values


@pytest.mark.parametrize('field, edit, problem', [
    ('bias', torch.zeros_like, r'12 of the 12 bias values are outside'),
    ('global_scores', nan_rows, r'24 of the 192 global_scores values are '
     'not finite'),
    ('local_scores', nan_rows, r'24 of the 192 local_scores values are '
     'not finite'),
])
def test_resumed_table_of_impossible_values_is_refused(tmp_path,
                                                       tiny_clip_resnet,
                                                       finished_run, field,
                                                       edit, problem):
    """A bias of 0 would saturate every label, NaN rows would stop the run
    at its first iteration blaming the learning rate: both stop before
    training, naming the checkpoint and the field."""
    saved = finished_run.train_dataloader.dataset.label_table.fields[field]
    checkpoint = saved_with_table(tmp_path, finished_run,
                                  **{field: edit(saved)})
    data_root = finished_run.train_dataloader.dataset.dataset.data_root
    runner = runner_from_cfg(
        resume_config(tmp_path, data_root, tiny_clip_resnet, checkpoint))
    with pytest.raises(ValueError, match=problem) as error:
        runner.train()
    assert f'the pseudo-label table of checkpoint {checkpoint}' in str(
        error.value)
    assert runner.iter == 12
    assert not os.path.exists(tmp_path / 'work' / 'epoch_4.pth')


def test_resume_of_a_table_without_fingerprints_warns(tmp_path,
                                                      tiny_clip_resnet,
                                                      finished_run):
    """A checkpoint saved before tables recorded file fingerprints still
    resumes, with a warning, and its later checkpoints carry them."""
    checkpoint = load(os.path.join(finished_run.work_dir, 'epoch_3.pth'))
    del checkpoint[PseudoLabelTable.checkpoint_key]['fields']['fingerprints']
    torch.save(checkpoint, tmp_path / 'old.pth')
    data_root = finished_run.train_dataloader.dataset.dataset.data_root
    resumed = train(
        resume_config(tmp_path, data_root, tiny_clip_resnet,
                      tmp_path / 'old.pth'))
    log = (Path(resumed.log_dir) / f'{resumed.timestamp}.log').read_text()
    assert 'was saved before tables recorded the fingerprints' in log
    reference = finished_run.train_dataloader.dataset.label_table
    final = load(tmp_path / 'work' / 'epoch_4.pth')
    assert torch.equal(
        final[PseudoLabelTable.checkpoint_key]['fields']['fingerprints'],
        reference.fingerprints)
    assert_same_weights(resumed, finished_run)


def test_train_ground_truth_does_not_reach_training(tmp_path, tiny_clip_resnet,
                                                    finished_run):
    """Shuffling the train split's labels changes nothing: teacher labels,
    bias, updated labels, losses, weights and the selected checkpoint are
    bit-identical."""
    data_root = make_shapes_root(tmp_path / 'data', permute_train_labels=True)
    runner = train(
        ccd_shapes_config(data_root, tiny_clip_resnet, str(tmp_path / 'work')))
    reference = finished_run
    table = runner.train_dataloader.dataset.label_table
    expected = reference.train_dataloader.dataset.label_table
    gt = [
        runner.train_dataloader.dataset.dataset.get_data_info(i)['gt_label']
        for i in range(3)
    ]
    gt_ref = [
        reference.train_dataloader.dataset.dataset.get_data_info(i)['gt_label']
        for i in range(3)
    ]
    assert gt != gt_ref  # the fixture did change the ground truth
    for name in ('global_scores', 'bias', 'confident', 'local_scores'):
        assert torch.equal(table.fields[name], expected.fields[name]), name
    for key in ('loss', 'loss_pseudo_label', 'loss_consistency'):
        history, _ = runner.message_hub.get_scalar(f'train/{key}').data
        expected_history, _ = reference.message_hub.get_scalar(
            f'train/{key}').data
        assert np.array_equal(history, expected_history), key
    for weight, expected_weight in zip(runner.model.state_dict().values(),
                                       reference.model.state_dict().values()):
        assert torch.equal(weight, expected_weight)
    best = load(os.path.join(runner.work_dir, 'best_label_free.pth'))
    best_ref = load(os.path.join(reference.work_dir, 'best_label_free.pth'))
    assert best['label_free_selection'] == best_ref['label_free_selection']
