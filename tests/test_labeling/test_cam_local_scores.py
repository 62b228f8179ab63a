"""The CAM label update pass (CCD 3.2) against a direct computation: CAM
boxes of the classifier, crops of the original image, teacher on each crop,
per-class max (Eq. 5)."""
import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS
from PIL import Image

import ccd_mm  # noqa: F401  (registers the CAM head)
from ccd_mm.core.aggregate import local_max
from ccd_mm.core.cam import cam_to_boxes, scale_positive_cam
from ccd_mm.labeling import (CropViewDataset, GlobalViewDataset,
                             cam_local_scores, classifier_cams)
from ccd_mm.teachers import CLIPTeacher
from tests.fixtures.tolerances import FLOAT64_STORED_AS_FLOAT32

CLASSES = ['cat', 'dog', 'bicycle', 'person']
VIEW, CROP, OFFSET = 64, 64, 4


@pytest.fixture(scope='module')
def scene(tmp_path_factory, tiny_clip_resnet):
    out = tmp_path_factory.mktemp('cam_update')
    rng = np.random.default_rng(0)
    paths = []
    for index, (width, height) in enumerate([(96, 64), (64, 96), (80, 80),
                                             (120, 60), (64, 64)]):
        pixels = rng.integers(
            0, 256, (height // 8, width // 8, 3), dtype=np.uint8)
        path = out / f'{index}.png'
        Image.fromarray(pixels).resize((width, height),
                                       Image.NEAREST).save(path)
        paths.append(str(path))
    broken = out / 'broken.jpg'
    broken.write_bytes(b'not an image')
    paths.insert(2, str(broken))
    torch.manual_seed(0)
    classifier = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                type='ResNet',
                depth=18,
                stem_channels=8,
                base_channels=8,
                strides=(1, 2, 2, 1)),
            head=dict(
                type='CAMMultiLabelHead',
                num_classes=len(CLASSES),
                in_channels=64),
            data_preprocessor=dict(
                type='ClsDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375]))).eval().double()
    # batch_size 3: crops of a shape wait across loader batches. Both models
    # in float64: the pass and the direct computation batch views and crops
    # differently, which in float32 may pick other kernels and move a CAM
    # box or a score (tests/fixtures/tolerances.py).
    teacher = CLIPTeacher(
        **tiny_clip_resnet, class_names=CLASSES, batch_size=3,
        device='cpu').double()
    return paths, classifier, teacher


def direct_boxes(paths, classifier, class_threshold):
    """Image by image: (view, CAM boxes of the selected classes), or None
    for an undecodable image."""
    views = GlobalViewDataset(paths, VIEW)
    for index in range(len(paths)):
        _, view = views[index]
        if view is None:
            yield None
            continue
        logits, cams = classifier_cams(classifier, view[None])
        chosen = torch.nonzero(
            torch.sigmoid(logits[0]) >= class_threshold).flatten()
        yield view, cam_to_boxes(cams[0, chosen], (VIEW, VIEW), 0.95, OFFSET)


def direct_local_scores(paths, classifier, teacher, class_threshold):
    """Image by image, without the pass's batching and streaming."""
    rows = []
    for index, image in enumerate(
            direct_boxes(paths, classifier, class_threshold)):
        if image is None:
            rows.append(torch.zeros(len(CLASSES)))
            continue
        _, boxes = image
        _, crops = CropViewDataset([paths[index]], [boxes], VIEW, CROP)[0]
        scores = (
            torch.cat([teacher(crop[None]) for crop in crops])
            if crops else torch.zeros(0, len(CLASSES)))
        rows.append(
            local_max(scores, torch.zeros(len(crops), dtype=torch.long), 1)[0])
    return torch.stack(rows).float()  # the pass stores float32 rows


def run_pass(scene, **arguments):
    """``cam_local_scores`` on the scene with this module's sizes, every
    class selected, 2 images a batch, unless ``arguments`` say otherwise."""
    paths, classifier, teacher = scene
    arguments = dict(
        dict(
            view_size=VIEW,
            crop_size=CROP,
            class_threshold=0.0,
            box_offset=OFFSET,
            batch_size=2,
            num_workers=0), **arguments)
    return cam_local_scores(classifier, teacher, paths, **arguments)


@pytest.mark.parametrize('num_workers', [0, 2])
def test_pass_equals_the_direct_computation(scene, num_workers):
    paths, classifier, teacher = scene
    local, stats = run_pass(scene, num_workers=num_workers, record_limit=3)
    expected = direct_local_scores(paths, classifier, teacher, 0.0)
    torch.testing.assert_close(
        local, expected, rtol=0, atol=FLOAT64_STORED_AS_FLOAT32)
    assert torch.equal(local[2], torch.zeros(len(CLASSES)))  # undecodable
    # Every class selected: one crop per class of each decoded image.
    assert stats['mean_crops'] == pytest.approx(len(CLASSES) * 5 / 6)
    records = stats['records']
    assert [r['img_path'] for r in records] == paths[:3]
    check_records(records, local)


def check_records(records, local):
    """A record holds a box's classes and scores; the max of its scores is
    the image's local label."""
    for record, row in zip(records, local):
        assert len(record['crop_scores']) == len(record['boxes'])
        assert len(record['classes']) == len(record['boxes'])
        if record['crop_scores']:
            torch.testing.assert_close(
                torch.tensor(record['crop_scores']).max(dim=0).values,
                row,
                rtol=0,
                atol=FLOAT64_STORED_AS_FLOAT32)


def test_unselected_classes_give_no_crop(scene):
    paths = scene[0]
    local, stats = run_pass(scene, class_threshold=1.1)
    assert torch.equal(local, torch.zeros(len(paths), len(CLASSES)))
    assert stats['mean_crops'] == 0


def test_scaled_cams_are_the_maps_the_logits_pool(scene):
    paths, classifier, _ = scene
    _, view = GlobalViewDataset(paths[:1], VIEW)[0]
    head = classifier.head
    head.positive_cam_scale = 3.0
    head.cam_scale_on.fill_(True)
    try:
        logits, scaled = classifier_cams(classifier, view[None], True)
        _, unscaled = classifier_cams(classifier, view[None])
    finally:
        head.positive_cam_scale = 1.0
        head.cam_scale_on.fill_(False)
    torch.testing.assert_close(scaled, scale_positive_cam(unscaled, 3.0))
    torch.testing.assert_close(logits, scaled.mean(dim=(2, 3)))


def direct_dense_local_scores(paths, classifier, teacher, dense_size):
    """Image by image: the teacher's dense map of the whole view, each
    box's cells averaged by hand, classified, max over the boxes."""
    rows = []
    for image in direct_boxes(paths, classifier, 0.0):
        if image is None:
            rows.append(torch.zeros(len(CLASSES)))
            continue
        view, boxes = image
        teacher_view = torch.nn.functional.interpolate(
            view[None].float() / 255, (dense_size, dense_size),
            mode='bilinear',
            antialias=True).clamp(0, 1)
        dense = teacher.dense_embeddings(teacher_view)[0]
        rows_, cols_ = dense.shape[:2]
        scores = []
        for x1, y1, x2, y2 in boxes.tolist():
            cells = [
                dense[r, c] for r in range(rows_) for c in range(cols_)
                if y1 <= (r + 0.5) * VIEW / rows_ < y2 and x1 <= (c + 0.5) *
                VIEW / cols_ < x2
            ]
            if not cells:  # the cell of the box's centre
                cells = [
                    dense[int((y1 + y2) / 2 * rows_ / VIEW),
                          int((x1 + x2) / 2 * cols_ / VIEW)]
                ]
            scores.append(
                teacher.probs_of_embeddings(torch.stack(cells).mean(dim=0)))
        rows.append(torch.stack(scores).max(dim=0).values)
    return torch.stack(rows).float()


def test_dense_mode_pools_one_teacher_pass_inside_the_boxes(scene):
    paths, classifier, teacher = scene
    calls = []
    forward = teacher.forward
    teacher.forward = lambda images: calls.append(len(images)) or forward(
        images)
    try:
        local, stats = run_pass(
            scene, record_limit=2, local_labels='dense', dense_view_size=128)
    finally:
        del teacher.forward
    assert calls == []  # no crop reached the teacher
    expected = direct_dense_local_scores(paths, classifier, teacher, 128)
    torch.testing.assert_close(
        local, expected, rtol=0, atol=FLOAT64_STORED_AS_FLOAT32)
    assert torch.equal(local[2], torch.zeros(len(CLASSES)))  # undecodable
    assert stats['mean_crops'] == pytest.approx(len(CLASSES) * 5 / 6)
    assert len(stats['records']) == 2
    check_records(stats['records'], local)


def test_unknown_local_label_source_is_refused(scene):
    with pytest.raises(ValueError, match='local_labels'):
        run_pass(scene, local_labels='patches')
