"""A CCD run over training images that PIL and OpenCV read differently: the
teacher labels the pixels the classifier trains on, and a file OpenCV
cannot read is skipped by the teacher pass and by training alike, named in
the log and in the work dir. The run goes into a work dir that holds
another run's files, and says so."""
import glob
import json
import os

import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS
from PIL import Image

from ccd_mm.engine.hooks import clip_initial_label_hook
from ccd_mm.labeling import label_global_views
from tests.fixtures.ccd_shapes_run import (SIZE, ccd_shapes_config,
                                           make_shapes_root)
from tests.fixtures.runner_names import runner_from_cfg

GRAY16 = 3000


def write_unusual_images(data_root, paths):
    """Overwrite three training images (their names stay .png: decoders go
    by content). Returns the index of the TGA file and the 8-bit PNGs that
    show what the other two must decode to."""
    Image.fromarray(np.full((8, 8, 3), 50, np.uint8)).save(
        paths[0], format='TGA')  # PIL reads it, OpenCV does not
    Image.fromarray(np.full((SIZE, SIZE), GRAY16, np.uint16)).save(paths[1])
    stored = np.zeros((SIZE, 2 * SIZE, 3), np.uint8)
    stored[:, SIZE:] = 255  # flat 8x8 blocks: JPEG keeps them exactly
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise
    Image.fromarray(stored).save(
        paths[2], format='JPEG', exif=exif, quality=100)
    expected = [f'{data_root}/gray8.png', f'{data_root}/rotated.png']
    Image.fromarray(np.full((SIZE, SIZE, 3), GRAY16 >> 8,
                            np.uint8)).save(expected[0])
    Image.fromarray(np.rot90(stored, k=-1)).save(expected[1])
    return expected


@pytest.fixture(scope='module')
def run(tmp_path_factory, tiny_clip_resnet):
    root = tmp_path_factory.mktemp('unusual_images')
    data_root = make_shapes_root(root / 'data')
    annotations = json.loads(
        (root / 'data/annotations/train.json').read_text())
    paths = [
        f'{data_root}/images/{image["file_name"]}'
        for image in annotations['images'][:3]
    ]
    expected = write_unusual_images(data_root, paths)
    cfg = ccd_shapes_config(
        data_root, tiny_clip_resnet, str(root / 'work'), max_epochs=1)
    # One image per teacher forward, as in the direct labeling below: the
    # same shapes, the same float32 kernels, bit-identical scores on any CPU
    # (tests/fixtures/tolerances.py).
    cfg.default_hooks.initial_labels.batch_size = 1
    # What an earlier run into the same work dir left there.
    (root / 'work').mkdir()
    for name in ('epoch_3.pth', 'cam_boxes_epoch_3.json'):
        (root / 'work' / name).write_text('')
    runner = runner_from_cfg(cfg)
    runner.train()
    return runner, cfg, paths, expected


def test_opencv_unreadable_file_is_skipped_by_teacher_and_training(run):
    runner, _, paths, _ = run
    dataset = runner.train_dataloader.dataset
    assert dataset.image_paths()[:3] == paths
    assert dataset.label_table.valid.tolist() == [False] + [True] * 15
    assert runner.iter == 4  # the whole epoch trained: 16 images, batch 4
    listing = os.path.join(runner.work_dir,
                           clip_initial_label_hook.UNDECODABLE_IMAGES_FILE)
    assert open(listing).read().startswith(
        f'{paths[0]}\tAssertionError: failed to load image'
    )  # the only line: path, tab, reason
    assert len(open(listing).readlines()) == 1
    log = open(glob.glob(f'{runner.work_dir}/*/*.log')[0]).read()
    assert '1 of 16 training images could not be decoded' in log
    assert paths[0] in log and listing in log


def test_teacher_labels_the_pixels_opencv_decodes(run, tiny_clip_resnet):
    runner, cfg, _, expected = run
    dataset = runner.train_dataloader.dataset
    teacher = MODELS.build(
        dataset.teacher_config(cfg.default_hooks.initial_labels.teacher))
    scores, decoded, _ = label_global_views(
        teacher, expected, SIZE, batch_size=1)
    assert decoded.all()
    # 16-bit gray as 3000 >> 8 (PIL would show white); the JPEG rotated.
    assert torch.equal(dataset.label_table.global_scores[1:3], scores)


def test_files_of_an_earlier_run_in_the_work_dir_are_named(run):
    runner = run[0]
    log = open(glob.glob(f'{runner.work_dir}/*/*.log')[0]).read()
    assert (f'The work dir {runner.work_dir} holds files of an earlier run: '
            'cam_boxes_epoch_3.json, epoch_3.pth.') in log


def test_image_over_the_pixel_limit_is_named_before_training_and_skipped(
        tmp_path, tiny_clip_resnet):
    """A one-colour PNG of many pixels (a few bytes on disk) is refused by
    its header in the teacher's pass, named with its size and the limit."""
    data_root = make_shapes_root(tmp_path / 'data')
    path = f'{data_root}/images/train/000000.png'
    Image.new('RGB', (8 * SIZE, 8 * SIZE), (90, 90, 90)).save(path)
    cfg = ccd_shapes_config(
        data_root, tiny_clip_resnet, str(tmp_path / 'work'), max_epochs=1)
    cfg.train_dataloader.dataset.max_image_pixels = 4 * SIZE * SIZE
    runner = runner_from_cfg(cfg)
    runner.train()
    dataset = runner.train_dataloader.dataset
    assert dataset.image_paths()[0] == path
    assert dataset.label_table.valid.tolist() == [False] + [True] * 15
    listing = os.path.join(runner.work_dir,
                           clip_initial_label_hook.UNDECODABLE_IMAGES_FILE)
    size = 8 * SIZE
    assert open(listing).read() == (
        f'{path}\t{size} x {size} = {size * size} pixels, over the limit of '
        f'{4 * SIZE * SIZE} (not decoded); if the image is meant to be '
        'labeled, raise max_image_pixels of CLIPPseudoLabelDataset '
        '(EvalImageCheckHook for evaluation splits)\n')
    log = open(glob.glob(f'{runner.work_dir}/*/*.log')[0]).read()
    assert f'{path} ({size} x {size} = {size * size} pixels' in log
