"""The ShapesML teacher: training tool, checkpoint loading, realism report."""
import json

import numpy as np
import open_clip
import pytest
import torch
import torch.nn.functional as F

from ccd_mm.datasets import ShapesML
from ccd_mm.datasets.shapesml_generator import (SHAPESML_CLASSES,
                                                SHAPESML_VERSION,
                                                generate_shapesml)
from ccd_mm.teachers import CLIPTeacher
from tests.fixtures.tools import load_tool

train_teacher = load_tool('shapesml/train_teacher')
teacher_realism = load_tool('shapesml/teacher_realism')

# A few steps on tiny batches: seconds on a CPU.
TINY_RUN = [
    '--steps', '2', '--batch-size', '4', '--workers', '0', '--check-images',
    '12', '--log-interval', '1'
]

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


@pytest.fixture(autouse=True, scope='module')
def keep_thread_count():
    """The tools set torch's thread count; give the test session its own
    back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def trained(tmp_path_factory, keep_thread_count):
    """Two runs with seed 0 and one with seed 1."""
    runs = {}
    for name, seed in (('a', 0), ('b', 0), ('c', 1)):
        out = tmp_path_factory.mktemp(f'teacher_{name}')
        report = train_teacher.main(
            ['--out', str(out), '--seed',
             str(seed)] + TINY_RUN)
        runs[name] = (out, report)
    return runs


def load_state(out):
    return torch.load(
        out / f'{train_teacher.MODEL_NAME}.pt', weights_only=True)


def test_checkpoint_loads_into_clip_teacher(trained):
    out, report = trained['a']
    assert report['steps_done'] == 2
    assert np.isfinite(report['final_loss'])
    assert 0 <= report['crop_accuracy'] <= 1
    # The demo retrains a teacher of another world version (other classes).
    assert report['shapesml_version'] == SHAPESML_VERSION
    assert json.loads((out / 'train_report.json').read_text()) == report
    teacher = CLIPTeacher(
        model_name='shapesml-clip-rn',
        pretrained=str(out / 'shapesml-clip-rn.pt'),
        class_names=SHAPESML_CLASSES,
        model_config=train_teacher.MODEL_CONFIG,
        device='cpu')
    generator = torch.Generator().manual_seed(0)
    square = teacher(torch.rand(2, 3, 128, 128, generator=generator))
    crops = teacher.label_views([torch.rand(3, 128, 64, generator=generator)])
    for probs in (square, crops):
        assert probs.shape[1] == len(SHAPESML_CLASSES)
        assert torch.isfinite(probs).all()
        # A float32 softmax over 12 classes sums to 1 within 12 half-ulps.
        torch.testing.assert_close(
            probs.sum(dim=1), torch.ones(len(probs)), rtol=0, atol=1e-5)


def test_isolated_objects_follow_their_own_class_law():
    zipf, uniform = (train_teacher.zipf_class_probs(e) for e in (1., 0.))
    counts = {}
    for name, object_probs in (('uniform', uniform), ('zipf', zipf)):
        pairs = iter(
            train_teacher.CaptionedShapes(0, 32, 16, zipf, object_probs, 1.,
                                          0., 1., .2))
        counts[name] = sum(next(pairs)[1] for _ in range(1200))
        assert counts[name].sum() == 1200  # one object named per pair
    # 100 per class expected; the Zipf law's first class gets about 386.
    assert counts['uniform'].min() > 65 and counts['uniform'].max() < 135
    assert counts['zipf'][0] > 300 and counts['zipf'][-1] < 70


def test_cut_crops_name_their_object_and_leave_other_pairs_alone():
    zipf = train_teacher.zipf_class_probs(1.)

    def pairs(cut_share, count):
        # Crops only (no single objects, no scenes).
        stream = iter(
            train_teacher.CaptionedShapes(0, 64, 32, zipf, zipf, 0., 0., 1.,
                                          .2, cut_share))
        return [next(stream) for _ in range(count)]

    cut = pairs(1., 20)
    assert all(named.sum() == 1 for _, named in cut)
    assert all(image.shape == (3, 32, 32) for image, _ in cut)
    plain, again = pairs(0., 20), pairs(0., 20)
    assert all(
        torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
        for a, b in zip(plain, again))
    assert not all(torch.equal(a[0], b[0]) for a, b in zip(plain, cut))


def test_same_seed_same_weights(trained):
    first, second, other = (
        load_state(trained[name][0]) for name in ('a', 'b', 'c'))
    assert first.keys() == second.keys() == other.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_caption_loss_is_clip_loss_for_distinct_captions():
    generator = torch.Generator().manual_seed(0)
    images = F.normalize(torch.randn(5, 8, generator=generator), dim=-1)
    texts = F.normalize(torch.randn(5, 8, generator=generator), dim=-1)
    scale = torch.tensor(10.)
    ours = train_teacher.caption_contrastive_loss(images, texts, torch.eye(5),
                                                  scale)
    clip = open_clip.ClipLoss()(images, texts, scale)
    torch.testing.assert_close(ours, clip)


def test_caption_loss_merges_duplicate_captions():
    images = torch.tensor([[1., 0.], [1., 0.], [0., 1.]])
    texts = torch.tensor([[1., 0.], [0., 1.]])
    described = torch.tensor([[1., 0.], [1., 0.], [0., 1.]])
    loss = train_teacher.caption_contrastive_loss(images, texts, described,
                                                  torch.tensor(5.))
    # Image side: each image vs the two captions, logits 5 and 0.
    image_loss = F.softplus(torch.tensor(-5.))
    # Caption 0 describes images 0 and 1 (uniform target over them); caption
    # 1 describes image 2. Logits of caption 0: (5, 5, 0); of caption 1:
    # (0, 0, 5).
    text_loss = ((torch.log(2 * torch.exp(torch.tensor(5.)) + 1) - 5) +
                 (torch.log(torch.exp(torch.tensor(5.)) + 2) - 5)) / 2
    torch.testing.assert_close(loss, (image_loss + text_loss) / 2)


def test_zipf_class_probs():
    probs = train_teacher.zipf_class_probs(1.)
    assert probs.shape == (len(SHAPESML_CLASSES), )
    assert probs.sum() == pytest.approx(1)
    assert probs[0] / probs[-1] == pytest.approx(len(SHAPESML_CLASSES))
    assert np.allclose(train_teacher.zipf_class_probs(0.), 1 / 12)


def test_caption_loss_with_a_caption_naming_two_objects():
    images = torch.tensor([[1., 0.], [0., 1.]])
    texts = torch.tensor([[1., 0.], [0., 1.]])
    # Image 0's caption names both objects; image 1's only the second.
    described = torch.tensor([[1., 1.], [0., 1.]])
    loss = train_teacher.caption_contrastive_loss(images, texts, described,
                                                  torch.tensor(5.))
    big, small = torch.tensor(5.), torch.tensor(0.)
    norm = torch.log(torch.exp(big) + torch.exp(small))
    # Image 0: uniform target over logits (5, 0); image 1: logit 5 of 0, 5.
    image_loss = ((norm - big) + (norm - small)) / 2 + (norm - big)
    # Caption 0 describes image 0 (logits 5, 0); caption 1 both images
    # (logits 0, 5).
    text_loss = (norm - big) + ((norm - small) + (norm - big)) / 2
    torch.testing.assert_close(loss, (image_loss / 2 + text_loss / 2) / 2)


def test_caption_names_the_largest_object_and_smaller_ones_by_area():
    objects = [
        dict(label=5, bbox=[50, 50, 60, 60]),
        dict(label=3, bbox=[0, 0, 40, 40]),
        dict(label=7, bbox=[60, 0, 80, 20])
    ]
    rng = np.random.default_rng(0)
    captions = [
        train_teacher.caption_labels(rng, objects, 1.) for _ in range(2000)
    ]
    # In size order, the largest (area 1600) always first.
    assert all(c[0] == 3 for c in captions)
    assert all(c == [3] + [k for k in (7, 5) if k in c] for c in captions)
    # Areas 400 and 100 of 1600: named a quarter and a sixteenth of times.
    assert np.mean([7 in c for c in captions]) == pytest.approx(
        1 / 4, abs=0.03)
    assert np.mean([5 in c for c in captions]) == pytest.approx(
        1 / 16, abs=0.02)
    assert train_teacher.caption_labels(rng, objects, 0.) == [3, 7, 5]
    assert train_teacher.caption_labels(rng, objects, 50.) == [3]


def test_object_crop_box_holds_the_object():
    rng = np.random.default_rng(0)
    for bbox in ([10, 20, 30, 36], [100, 0, 128, 20], [0, 0, 128, 90]):
        for _ in range(20):
            x1, y1, x2, y2 = train_teacher.object_crop_box(rng, bbox, 128, .2)
            side = max(bbox[2] - bbox[0], bbox[3] - bbox[1])
            assert x2 - x1 == y2 - y1
            assert side <= x2 - x1 <= min(128, side + 0.4 * 128 + 1)
            assert 0 <= x1 <= bbox[0] and bbox[2] <= x2 <= 128
            assert 0 <= y1 <= bbox[1] and bbox[3] <= y2 <= 128


def test_cut_object_box_cuts_one_edge_of_the_grown_box():
    rng = np.random.default_rng(0)
    cut_edges = set()
    for bbox in ([10, 20, 40, 56], [90, 0, 128, 30], [0, 0, 128, 90]):
        for _ in range(50):
            box = train_teacher.cut_object_box(rng, bbox, 128, 16, 0.6)
            x1, y1, x2, y2 = box
            assert 0 <= x1 < x2 <= 128 and 0 <= y1 < y2 <= 128
            # Inside the object's box grown by 16 px ...
            assert bbox[0] - 16 <= x1 and x2 <= bbox[2] + 16
            assert bbox[1] - 16 <= y1 and y2 <= bbox[3] + 16
            # ... still on the object (its sides are 30 px or more) ...
            assert x1 < bbox[2] and bbox[0] < x2
            assert y1 < bbox[3] and bbox[1] < y2
            # ... and cut at one edge at most.
            inside = [x1 > bbox[0], y1 > bbox[1], x2 < bbox[2], y2 < bbox[3]]
            assert sum(inside) <= 1
            cut_edges.update(i for i, cut in enumerate(inside) if cut)
    assert cut_edges == {0, 1, 2, 3}


def test_realism_report_on_a_tiny_split(trained, tmp_path, capsys):
    out, _ = trained['a']
    generate_shapesml(
        str(tmp_path / 'shapes'), seed=0, num_train=0, num_test=12)
    report = teacher_realism.main([
        '--teacher',
        str(out / 'shapesml-clip-rn.pt'), '--data',
        str(tmp_path / 'shapes'), '--model-config', train_teacher.MODEL_CONFIG
    ])
    printed = capsys.readouterr().out
    assert '| global-view mAP |' in printed
    assert json.loads(printed.strip().splitlines()[-1])['num_images'] == 12
    assert report['num_images'] == 12
    assert 0 <= report['top1_in_gt'] <= 1
    assert 0 <= report['global_map'] <= 100
    assert 0 <= report['oracle_map'] <= 100
    assert 0 <= report['dense_fused_map'] <= 100
    assert 0 <= report['dense_box_oracle_map'] <= 100
    assert '| dense box oracle (boxes pooled on one pass), mAP |' in printed
    assert set(report['cut_object_top1']) == {'0.0', '0.25', '0.5'}
    assert all(0 <= top1 <= 1 for top1 in report['cut_object_top1'].values())
    assert '| top-1 on object crops, 25% of the box cut at one edge |' in \
        printed
    recall = report['recall']
    split = ShapesML(str(tmp_path / 'shapes'), 'test')
    assert recall['small']['objects'] + recall['large']['objects'] == sum(
        len(split.get_data_info(index)['gt_bboxes'])
        for index in range(len(split)))
    shares = [row['top1_share'] for row in report['per_class']]
    assert len(shares) == len(SHAPESML_CLASSES)
    assert sum(shares) == pytest.approx(1)
    assert report['classes_with_bias'] == sum(row['bias'] is not None
                                              for row in report['per_class'])
