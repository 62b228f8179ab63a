import filecmp
import importlib.util
import json
import os
import os.path as osp
import shutil
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmpretrain.evaluation import AveragePrecision
from PIL import Image

from ccd_mm.datasets import ShapesML
from ccd_mm.datasets.shapesml_generator import (SHAPESML_CLASSES,
                                                generate_shapesml,
                                                render_object, render_scene)

NUM_CLASSES = len(SHAPESML_CLASSES)
NUM_TRAIN, NUM_TEST, IMAGE_SIZE = 20, 40, 128
# Objects are vivid (channel spread >= ~130), background and clutter near
# grey (spread well below 100), so spread >= 100 marks object pixels.
OBJECT_SPREAD = 100
CLI_PATH = Path(__file__).parents[2] / 'tools' / 'dataset_converters' / \
    'make_shapesml.py'

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('shapesml'))
    generate_shapesml(
        root,
        seed=7,
        num_train=NUM_TRAIN,
        num_test=NUM_TEST,
        image_size=IMAGE_SIZE)
    return root


def _load_split(root, split):
    with open(osp.join(root, 'annotations', f'{split}.json')) as f:
        return json.load(f)


def _channel_spread(path):
    pixels = np.asarray(Image.open(path).convert('RGB')).astype(np.int64)
    return pixels.max(-1) - pixels.min(-1)


def _all_files(root):
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root)
        for f in files)


def test_layout_and_counts(shapes_root):
    meta = json.load(open(osp.join(shapes_root, 'meta.json')))
    assert meta['seed'] == 7 and meta['image_size'] == IMAGE_SIZE
    assert meta['num_train'] == NUM_TRAIN and meta['num_test'] == NUM_TEST
    assert meta['classes'] == list(SHAPESML_CLASSES)
    assert 'version' in meta and meta['class_probs'] is None
    for split, num in (('train', NUM_TRAIN), ('test', NUM_TEST)):
        ann = _load_split(shapes_root, split)
        assert ann['classes'] == list(SHAPESML_CLASSES)
        assert len(ann['images']) == num
        assert len(os.listdir(osp.join(shapes_root, 'images', split))) == num
        first = ann['images'][0]
        assert first['file_name'] == f'{split}/000000.png'
        image = Image.open(osp.join(shapes_root, 'images', first['file_name']))
        assert image.size == (first['width'], first['height']) == (IMAGE_SIZE,
                                                                   IMAGE_SIZE)
        assert image.mode == 'RGB'


def test_labels_and_object_counts(shapes_root):
    assert 12 <= NUM_CLASSES <= 16
    for split in ('train', 'test'):
        for record in _load_split(shapes_root, split)['images']:
            labels = [obj['label'] for obj in record['objects']]
            assert 1 <= len(labels) <= 4
            assert len(set(labels)) == len(labels)
            assert all(0 <= label < NUM_CLASSES for label in labels)
    test_labels = {
        obj['label']
        for record in _load_split(shapes_root, 'test')['images']
        for obj in record['objects']
    }
    assert test_labels == set(range(NUM_CLASSES))


def test_boxes_enclose_the_drawn_objects(shapes_root):
    for record in _load_split(shapes_root, 'test')['images']:
        spread = _channel_spread(
            osp.join(shapes_root, 'images', record['file_name']))
        covered = np.zeros_like(spread, dtype=bool)
        boxes = [obj['bbox'] for obj in record['objects']]
        for x1, y1, x2, y2 in boxes:
            assert 0 <= x1 < x2 <= IMAGE_SIZE and 0 <= y1 < y2 <= IMAGE_SIZE
            # Smallest object extent is about 26 px at 128 px.
            assert max(x2 - x1, y2 - y1) >= 16
            covered[y1:y2, x1:x2] = True
            inside = spread[y1:y2, x1:x2] >= OBJECT_SPREAD
            assert inside.mean() >= 0.15
            # Tight: every side has object pixels within 4 px (sharp tips
            # are only partly covered after anti-aliasing).
            assert inside[:4].any() and inside[-4:].any()
            assert inside[:, :4].any() and inside[:, -4:].any()
        # No object pixel lies outside every box.
        assert not (spread[~covered] >= OBJECT_SPREAD).any()


def test_scale_varies_with_a_dominant_object(shapes_root):
    images = _load_split(shapes_root, 'train')['images'] + \
        _load_split(shapes_root, 'test')['images']
    sides = [
        max(x2 - x1, y2 - y1) / IMAGE_SIZE for record in images
        for x1, y1, x2, y2 in (obj['bbox'] for obj in record['objects'])
    ]
    assert min(sides) < 0.2 and max(sides) > 0.4
    multi = [r for r in images if len(r['objects']) > 1]
    ratios = []
    for record in multi:
        extents = sorted(
            max(x2 - x1, y2 - y1)
            for x1, y1, x2, y2 in (o['bbox'] for o in record['objects']))
        ratios.append(extents[-1] / extents[-2])
    # Most multi-object scenes have one object much larger than the rest
    # (the box's longer side: a bone's box is half as tall as it is wide;
    # 74% of the 2,000 scenes of seed 0 above 1.3).
    assert np.mean(np.array(ratios) > 1.3) > 0.5


def test_deterministic_from_seed(tmp_path):
    kwargs = dict(num_train=3, num_test=NUM_CLASSES, image_size=48)
    generate_shapesml(str(tmp_path / 'a'), seed=1, **kwargs)
    generate_shapesml(str(tmp_path / 'b'), seed=1, **kwargs)
    generate_shapesml(str(tmp_path / 'c'), seed=2, **kwargs)
    files = _all_files(tmp_path / 'a')
    assert len(files) == 3 + NUM_CLASSES + 3
    assert files == _all_files(tmp_path / 'b')
    match, mismatch, errors = filecmp.cmpfiles(
        tmp_path / 'a', tmp_path / 'b', files, shallow=False)
    assert len(match) == len(files) and not mismatch and not errors
    for split in ('train', 'test'):
        assert _load_split(tmp_path / 'a',
                           split) != _load_split(tmp_path / 'c', split)
    # Train and test come from independent streams.
    generate_shapesml(
        str(tmp_path / 'd'),
        seed=1,
        num_train=5,
        num_test=NUM_CLASSES,
        image_size=48)
    assert _load_split(tmp_path / 'd',
                       'test') == _load_split(tmp_path / 'a', 'test')


def test_class_probs_and_argument_checks(tmp_path):
    probs = [1.] * 4 + [0.] * (NUM_CLASSES - 4)
    generate_shapesml(
        str(tmp_path),
        seed=0,
        num_train=10,
        num_test=NUM_CLASSES,
        image_size=48,
        class_probs=probs)
    train_labels = {
        obj['label']
        for record in _load_split(tmp_path, 'train')['images']
        for obj in record['objects']
    }
    assert train_labels <= {0, 1, 2, 3}
    test_labels = {
        obj['label']
        for record in _load_split(tmp_path, 'test')['images']
        for obj in record['objects']
    }
    assert test_labels == set(range(NUM_CLASSES))
    assert json.load(open(tmp_path / 'meta.json'))['class_probs'] == probs
    with pytest.raises(ValueError):
        generate_shapesml(str(tmp_path / 'x'), num_test=NUM_CLASSES - 1)
    with pytest.raises(ValueError):
        render_scene(np.random.default_rng(0), 64, class_probs=[1., 2.])


def test_render_scene_and_object():
    image, objects = render_scene(np.random.default_rng(3), 96)
    again, objects_again = render_scene(np.random.default_rng(3), 96)
    assert image.size == (96, 96) and objects == objects_again
    assert np.array_equal(np.asarray(image), np.asarray(again))
    assert set(objects[0]) == {'label', 'bbox'}
    image, objects = render_scene(
        np.random.default_rng(4), 64, required_label=5)
    assert 5 in [obj['label'] for obj in objects]
    for label in range(NUM_CLASSES):
        crop = render_object(np.random.default_rng(label), label, 32)
        assert crop.size == (32, 32) and crop.mode == 'RGB'
        pixels = np.asarray(crop).astype(np.int64)
        vivid = (pixels.max(-1) - pixels.min(-1)) >= OBJECT_SPREAD
        # The object fills a good part of the frame.
        rows, cols = np.nonzero(vivid)
        assert max(np.ptp(rows), np.ptp(cols)) + 1 >= 16
        assert 0.05 <= vivid.mean() <= 0.8


def test_dataset_loads_labels_and_boxes(shapes_root):
    ann = _load_split(shapes_root, 'test')
    dataset = ShapesML(data_root=shapes_root, split='test', test_mode=True)
    assert len(dataset) == NUM_TEST
    assert dataset.CLASSES == SHAPESML_CLASSES
    for idx in (0, NUM_TEST - 1):
        info = dataset.get_data_info(idx)
        objects = ann['images'][idx]['objects']
        assert info['img_path'] == osp.join(shapes_root, 'images',
                                            ann['images'][idx]['file_name'])
        assert info['gt_label'] == sorted(obj['label'] for obj in objects)
        assert info['gt_bboxes'].shape == (len(objects), 4)
        np.testing.assert_array_equal(info['gt_bboxes'],
                                      [obj['bbox'] for obj in objects])
        np.testing.assert_array_equal(info['gt_bboxes_labels'],
                                      [obj['label'] for obj in objects])
    assert dataset.get_cat_ids(0) == dataset.get_data_info(0)['gt_label']

    train = ShapesML(
        data_root=shapes_root,
        split='train',
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='PackInputs')])
    sample = train[0]
    assert tuple(sample['inputs'].shape) == (3, IMAGE_SIZE, IMAGE_SIZE)
    first = _load_split(shapes_root, 'train')['images'][0]['objects']
    assert sample['data_samples'].gt_label.tolist() == sorted(obj['label']
                                                              for obj in first)
    with pytest.raises(ValueError):
        ShapesML(data_root=shapes_root, split='val')


def test_dataset_drops_missing_images(shapes_root, tmp_path):
    root = str(tmp_path / 'copy')
    shutil.copytree(shapes_root, root)
    os.remove(osp.join(root, 'images', 'train', '000003.png'))
    os.remove(osp.join(root, 'images', 'train', '000011.png'))
    logger = MMLogger.get_current_instance()
    with mock.patch.object(logger, 'warning') as warning:
        dataset = ShapesML(data_root=root, split='train')
    assert len(dataset) == NUM_TRAIN - 2
    assert '2 image files are missing and were dropped (of 20 listed)' in (
        warning.call_args[0][0])
    paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    assert not any(p.endswith(('000003.png', '000011.png')) for p in paths)


def test_average_precision_of_perfect_predictions(shapes_root):
    dataset = ShapesML(data_root=shapes_root, split='test', test_mode=True)
    perfect, inverted = AveragePrecision(), AveragePrecision()
    for idx in range(len(dataset)):
        gt_label = torch.tensor(dataset.get_data_info(idx)['gt_label'])
        score = torch.zeros(NUM_CLASSES)
        score[gt_label] = 1.
        perfect.process(None, [dict(pred_score=score, gt_label=gt_label)])
        inverted.process(None, [dict(pred_score=1 - score, gt_label=gt_label)])
    assert perfect.compute_metrics(perfect.results)['mAP'] == \
        pytest.approx(100.)
    assert inverted.compute_metrics(inverted.results)['mAP'] < 50.


def test_cli_writes_layout(tmp_path):
    spec = importlib.util.spec_from_file_location('make_shapesml', CLI_PATH)
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out = tmp_path / 'cli'
    cli.main([
        '--out',
        str(out), '--seed', '5', '--num-train', '2', '--num-test',
        str(NUM_CLASSES), '--image-size', '40'
    ])
    assert (out / 'meta.json').is_file()
    assert json.load(open(out / 'meta.json'))['seed'] == 5
    assert len(_load_split(out, 'train')['images']) == 2
    assert len(_load_split(out, 'test')['images']) == NUM_CLASSES
    assert (out / 'images' / 'train' / '000001.png').is_file()
    image = Image.open(out / 'images' / 'test' / '000000.png')
    assert image.size == (40, 40)


def broken_split(tmp_path, change):
    """A ShapesML tree whose train annotations ``change`` rewrote."""
    root = str(tmp_path)
    generate_shapesml(root, seed=0, num_train=3, num_test=12, image_size=32)
    path = osp.join(root, 'annotations', 'train.json')
    with open(path) as file:
        text = file.read()
    with open(path, 'w') as file:
        file.write(change(text))
    return root, path


def edited(change):
    """``change`` applied to the parsed annotations, written back."""

    def rewrite(text):
        annotations = json.loads(text)
        change(annotations)
        return json.dumps(annotations)

    return rewrite


@pytest.mark.parametrize(
    'change, problem',
    [
        (lambda text: text[:len(text) // 2], r' is not valid JSON, truncated '
         r'perhaps: .*line 1 column'),
        (edited(lambda annotations: annotations.pop('images')),
         r" has no \['images'\]: not a ShapesML annotation file"),
        (edited(lambda annotations: annotations['images'][1].pop('objects')),
         r": images\[1\] has no \['objects'\]"),
        (edited(lambda annotations: annotations['images'][2]['objects'][0].pop(
            'bbox')), r": images\[2\]\.objects\[0\] has no \['bbox'\]"),
        (edited(lambda annotations: annotations['images'][1]['objects'][0].
                update(label=len(SHAPESML_CLASSES))),
         rf': images\[1\] \(train/000001.png\) has an object of label '
         rf'{len(SHAPESML_CLASSES)}, not a class index 0\.\.'
         rf'{len(SHAPESML_CLASSES) - 1}'),
        # A split of version 1.1, whose classes had a semicircle: the error
        # says how to write it again.
        (edited(lambda annotations: annotations['classes'].__setitem__(
            8, 'semicircle')), r" lists classes .*'semicircle'.* \(ShapesML "
         r'.*\): write the split again with tools/dataset_converters/'
         r'make_shapesml\.py'),
    ])
def test_broken_annotation_file_is_named_with_record_and_value(
        tmp_path, change, problem):
    root, path = broken_split(tmp_path, change)
    with pytest.raises(ValueError, match=f'{path}{problem}'):
        ShapesML(data_root=root, split='train')
