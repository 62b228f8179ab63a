"""Pseudo-label quality report: numbers on a hand-computed fixture, the
ground-truth reader, the tool on a label cache and on a checkpoint, and the
per-epoch statistics hook."""
import json
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config

from ccd_mm.core import pseudo_label_statistics
from ccd_mm.engine import build_pseudo_label_dataset
from ccd_mm.evaluation import (format_report, load_pseudo_labels,
                               pseudo_label_report, train_ground_truth)
from ccd_mm.labeling.label_cache import read_label_cache, write_label_cache
from tests.fixtures.ccd_tool_run import shared_ccd_run
from tests.fixtures.tools import load_tool

CLASSES = ['a', 'b', 'c']
# Image 3 shows class a only as difficult objects (-1); image 4 did not
# decode, so its (perfect-looking) rows must not count.
GROUND_TRUTH = torch.tensor([[1., 0, 0], [1, 1, 0], [0, 1, 0], [-1, 0, 0],
                             [1, 1, 1]])
VALID = torch.tensor([True, True, True, True, False])
STAGES = dict(
    initial=torch.tensor([[0.9, 0.7, 0.05], [0.8, 0.3, 0.05], [0.1, 0.6, 0.05],
                          [0.95, 0.5, 0.05], [0.0, 0.0, 0.0]]),
    debiased=torch.tensor([[0.2, 0.1, 1.0], [0.9, 0.9, 0.0], [0.8, 0.8, 0.0],
                           [0.1, 0.2, 0.0], [1.0, 1.0, 1.0]]))
BIAS = torch.tensor([0.5, 1.0, 0.25])

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def test_report_numbers_on_known_labels():
    report = pseudo_label_report(STAGES, GROUND_TRUTH, BIAS, VALID, CLASSES)
    assert report['num_images'] == 4 and report['num_undecoded'] == 1
    initial, debiased = report['stages']['initial'], report['stages'][
        'debiased']
    # a: positives 0.9, 0.8 above the negative 0.1 (difficult 0.95 ignored)
    # b: ranking neg, pos, neg, pos -> (1/2 + 2/4) / 2; c: no positive.
    assert [entry['AP']['initial'] for entry in report['per_class']] == \
        pytest.approx([100.0, 50.0, None])
    assert initial['mAP'] == pytest.approx(75.0)
    # a: pos, neg, pos -> (1 + 2/3) / 2; b: both positives first.
    assert [entry['AP']['debiased'] for entry in report['per_class']] == \
        pytest.approx([250 / 3, 100.0, None])
    assert debiased['mAP'] == pytest.approx((250 / 3 + 100) / 2)
    assert initial['labels_per_image'] == pytest.approx(6 / 4)
    assert initial['saturated_per_image'] == 0
    assert initial['mean_value'] == pytest.approx(5.05 / 12)
    assert debiased['labels_per_image'] == pytest.approx(5 / 4)
    assert debiased['saturated_per_image'] == pytest.approx(1 / 4)
    # Present pairs (target 1): 0.9, 0.8, 0.3, 0.6; absent (0): 0.7, 0.1,
    # 0.5 and four 0.05 (image 3's difficult a is neither).
    assert initial['mean_on_present'] == pytest.approx(2.6 / 4)
    assert initial['mean_on_absent'] == pytest.approx(1.5 / 7)
    assert debiased['mean_on_present'] == pytest.approx(2.8 / 4)
    assert debiased['mean_on_absent'] == pytest.approx(2.1 / 7)
    assert report['ground_truth']['labels_per_image'] == pytest.approx(1.0)
    assert [entry['positives'] for entry in report['per_class']] == [2, 2, 0]
    assert [entry['bias'] for entry in report['per_class']] == \
        pytest.approx([0.5, 1.0, 0.25])
    text = format_report(report)
    assert 'initial        75.00' in text and 'debiased       91.67' in text
    assert '0.650      0.214' in text
    assert 'n/a' in text  # class c has no AP


def test_statistics_of_an_empty_set_are_zero():
    assert pseudo_label_statistics(torch.zeros(0, 3)) == dict(
        labels_per_image=0.0, saturated_per_image=0.0, mean_value=0.0)


class VOCLikeSplit:
    """A split whose infos carry VOC's difficult labels."""

    infos = [
        dict(gt_label=[0], gt_label_difficult=[0, 2]),
        dict(gt_label=[1, 2], gt_label_difficult=[])
    ]

    def full_init(self):
        pass

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, index):
        return self.infos[index]


def test_ground_truth_follows_the_voc_difficult_convention():
    dataset = SimpleNamespace(
        dataset=VOCLikeSplit(), metainfo=dict(classes=CLASSES))
    assert train_ground_truth(dataset).tolist() == [[1, 0, -1], [0, 1, 1]]


def test_a_split_without_labels_has_no_ground_truth():
    """A folder of images (CustomDataset, with_label=False)."""
    split = VOCLikeSplit()
    split.infos = [dict(img_path='photos/0.jpg')]
    dataset = SimpleNamespace(dataset=split, metainfo=dict(classes=CLASSES))
    with pytest.raises(ValueError, match='no labels, e.g. for photos/0.jpg'):
        train_ground_truth(dataset)


@pytest.fixture(scope='module')
def run(tmp_path_factory, tiny_clip_resnet):
    return shared_ccd_run(tmp_path_factory, tiny_clip_resnet)


def annotation_ground_truth(run):
    """The train labels read straight from the fixture's annotation file."""
    with open(f'{run.data_root}/annotations/train.json') as file:
        images = json.load(file)['images']
    targets = torch.zeros(len(images), 12)
    for row, image in enumerate(images):
        for obj in image['objects']:
            targets[row, obj['label']] = 1
    return targets


def test_ground_truth_of_the_split(run):
    dataset = build_pseudo_label_dataset(Config.fromfile(run.config))
    assert torch.equal(
        train_ground_truth(dataset), annotation_ground_truth(run))


def test_tool_reports_a_label_cache(run, tmp_path, capsys):
    out = tmp_path / 'report.json'
    load_tool('eval_pseudo_labels').main(
        [run.config, run.cache, '--out',
         str(out)])
    printed = capsys.readouterr().out
    assert 'only this report does' in printed
    report = json.loads(out.read_text())
    assert list(report['stages']) == ['initial', 'debiased']
    scores = read_label_cache(run.cache)['fields']['global_scores']
    expected = pseudo_label_report(
        dict(initial=scores), annotation_ground_truth(run), torch.ones(12),
        torch.ones(16, dtype=torch.bool),
        [str(c) for c in range(12)])['stages']['initial']
    assert report['stages']['initial']['mAP'] == pytest.approx(expected['mAP'])
    assert f'initial{report["stages"]["initial"]["mAP"]:>13.2f}' in printed
    assert report['ground_truth']['labels_per_image'] == pytest.approx(
        float(annotation_ground_truth(run).sum(1).mean()))
    assert len(report['per_class']) == 12


def test_tool_reports_the_updated_labels_of_a_checkpoint(run, tmp_path):
    out = tmp_path / 'report.json'
    load_tool('eval_pseudo_labels').main(
        [run.config, run.checkpoint, '--out',
         str(out)])
    report = json.loads(out.read_text())
    assert list(report['stages']) == ['initial', 'debiased', 'updated']
    dataset = run.runner.train_dataloader.dataset
    expected = pseudo_label_statistics(dataset.current_targets())
    for key, value in expected.items():
        assert report['stages']['updated'][key] == pytest.approx(value), key


def test_labels_of_another_image_list_are_refused(run, tmp_path):
    payload = read_label_cache(run.cache)
    other = tmp_path / 'other.pth'
    write_label_cache(
        str(other), payload['fields'], 2.0,
        dict(payload['provenance'], image_list='0' * 16))
    dataset = build_pseudo_label_dataset(Config.fromfile(run.config))
    with pytest.raises(ValueError, match='another image list'):
        load_pseudo_labels(str(other), dataset)


def test_statistics_hook_logs_the_epoch_targets(run):
    dataset = run.runner.train_dataloader.dataset
    expected = pseudo_label_statistics(dataset.current_targets())
    hub = run.runner.message_hub
    assert hub.get_scalar('train/pseudo_labels_per_image').current() == \
        pytest.approx(expected['labels_per_image'])
    assert hub.get_scalar('train/pseudo_saturated_per_image').current() == \
        pytest.approx(expected['saturated_per_image'])
    assert hub.get_scalar('train/pseudo_label_mean').current() == \
        pytest.approx(expected['mean_value'])
