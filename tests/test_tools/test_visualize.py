"""tools/visualize.py: CAM boxes drawn where the record puts them, and the
bias / histogram charts of a run, as non-empty PNGs."""
import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from ccd_mm.visualization import (draw_cam_boxes, plot_class_bias,
                                  plot_dense_maps, plot_label_histograms)
from tests.fixtures.ccd_tool_run import shared_ccd_run
from tests.fixtures.tools import load_tool

GREY = 128


@pytest.fixture
def grey_record(tmp_path):
    """A 64 x 48 grey image with one box on a 100 x 100 labeling view."""
    image = tmp_path / 'grey.png'
    Image.new('RGB', (64, 48), (GREY, ) * 3).save(image)
    return dict(
        img_path=str(image),
        view_size=100,
        boxes=[[10, 20, 50, 80]],
        classes=[1],
        crop_scores=[[0.1, 0.87, 0.03]])


def changed(drawing):
    return (drawing != GREY).any(axis=2)


def test_box_is_drawn_where_the_record_puts_it(grey_record):
    drawing = draw_cam_boxes(
        grey_record, ['cat', 'dog', 'bird'], display_size=128)
    assert drawing.shape == (96, 128, 3) and drawing.dtype == np.uint8
    mask = changed(drawing)
    # The view box (10, 20)-(50, 80) is (12.8, 19.2)-(64, 76.8) on the
    # 128 x 96 drawing: its lower left and right edges are drawn...
    assert mask[50:75, 11:15].any(axis=1).all()
    assert mask[50:75, 62:66].any(axis=1).all()
    assert mask[75:79, 20:60].any(axis=0).all()
    # ... the label sits at its top-left corner, the inside stays clear ...
    assert mask[19:26, 13:40].any()
    assert not mask[45:70, 20:56].any()
    # ... and nothing is drawn right of or below the box.
    assert not mask[:, 70:].any() and not mask[82:, :].any()


def test_record_without_boxes_leaves_the_image(grey_record):
    record = dict(grey_record, boxes=[], classes=[], crop_scores=[])
    drawing = draw_cam_boxes(record, ['cat', 'dog', 'bird'], display_size=64)
    assert drawing.shape == (48, 64, 3) and not changed(drawing).any()


def test_tool_writes_the_boxes_of_a_record_file(grey_record, tmp_path):
    records = tmp_path / 'cam_boxes_epoch_3.json'
    records.write_text(
        json.dumps(
            dict(classes=['cat', 'dog', 'bird'], records=[grey_record] * 2)))
    load_tool('visualize').main([
        'boxes',
        str(records), '--out-dir',
        str(tmp_path / 'vis'), '--num-images', '1', '--display-size', '128'
    ])
    assert os.listdir(tmp_path / 'vis') == ['cam_boxes_epoch_3_0.png']
    png = np.asarray(Image.open(tmp_path / 'vis' / 'cam_boxes_epoch_3_0.png'))
    expected = draw_cam_boxes(grey_record, ['cat', 'dog', 'bird'], 128)
    assert np.array_equal(png, expected)


def image_of(path):
    return np.asarray(Image.open(path).convert('RGB'))


def test_bias_chart_follows_the_bias(tmp_path):
    low, high = tmp_path / 'low.png', tmp_path / 'high.png'
    plot_class_bias(torch.tensor([0.2, 1.0]), ['cat', 'dog'], str(low))
    plot_class_bias(torch.tensor([0.9, 1.0]), ['cat', 'dog'], str(high))
    low, high = image_of(low), image_of(high)
    assert low.shape == high.shape and low.std() > 0
    differs = (low != high).any(axis=2)
    # Only the first bar changed: the difference lies in the left half.
    columns = np.nonzero(differs.any(axis=0))[0]
    assert len(columns) and columns.max() < low.shape[1] // 2


def test_histogram_changes_with_the_labels(tmp_path):
    path_a, path_b = tmp_path / 'a.png', tmp_path / 'b.png'
    labels = torch.linspace(0, 1, 60).view(20, 3)
    plot_label_histograms(dict(initial=labels), str(path_a))
    plot_label_histograms(
        dict(initial=labels, updated=labels.sqrt()), str(path_b))
    a, b = image_of(path_a), image_of(path_b)
    assert a.std() > 0 and a.shape == b.shape and (a != b).any()


@pytest.fixture(scope='module')
def run(tmp_path_factory, tiny_clip_resnet):
    return shared_ccd_run(tmp_path_factory, tiny_clip_resnet)


def test_tool_draws_the_boxes_recorded_by_the_update(run, tmp_path):
    load_tool('visualize').main([
        'boxes', run.boxes, '--out-dir',
        str(tmp_path), '--display-size', '64'
    ])
    with open(run.boxes) as file:
        records = json.load(file)['records']
    assert sorted(os.listdir(tmp_path)) == [
        f'cam_boxes_epoch_1_{i}.png' for i in range(len(records))
    ]
    for index, record in enumerate(records):
        drawing = image_of(tmp_path / f'cam_boxes_epoch_1_{index}.png')
        plain = image_of(record['img_path'])  # 32 px fixture images
        plain = np.asarray(
            Image.fromarray(plain).resize((64, 64), Image.BICUBIC))
        assert drawing.shape == plain.shape
        assert (drawing != plain).any() == bool(record['boxes'])


def test_tool_charts_the_labels_of_a_checkpoint(run, tmp_path):
    load_tool('visualize').main(
        ['labels', run.config, run.checkpoint, '--out-dir',
         str(tmp_path)])
    assert sorted(
        os.listdir(tmp_path)) == ['class_bias.png', 'label_histogram.png']
    for name in os.listdir(tmp_path):
        assert os.path.getsize(tmp_path / name) > 0
        assert image_of(tmp_path / name).std() > 0


def test_dense_panels_follow_the_scores(tmp_path):
    view = np.full((64, 64, 3), GREY, dtype=np.uint8)
    dense = torch.zeros(3, 2, 2)
    dense[0, 0, 0] = 1.
    paths = [tmp_path / 'a.png', tmp_path / 'b.png']
    for path, scores in zip(paths, (dense, dense.flip(dims=(2, )))):
        plot_dense_maps(view, scores, torch.tensor([.5, .3, .2]),
                        ['cat', 'dog', 'bird'], [0, 1], str(path))
    a, b = image_of(paths[0]), image_of(paths[1])
    assert a.std() > 0 and a.shape == b.shape and (a != b).any()


def test_tool_draws_the_dense_scores_of_an_image(run, tmp_path):
    image = os.path.join(run.data_root, 'images', 'train', '000000.png')
    load_tool('visualize').main([
        'dense', run.config, image, '--out-dir',
        str(tmp_path), '--top-k', '2'
    ])
    assert os.listdir(tmp_path) == ['dense_000000.png']
    drawing = image_of(tmp_path / 'dense_000000.png')
    # The view and two class panels side by side.
    assert drawing.shape[1] > 2.5 * drawing.shape[0] and drawing.std() > 0
