"""Your own images: CCD trained on a folder of images (nested folders, no
annotation file) with class names from a text file and no labelled split,
through tools/train.py; then tools/visualize.py on the run and
tools/infer.py on new images with the label-free checkpoint
(configs/shapes/ccd_shapesml_folder.py at the tests' size)."""
import json
import shutil

import pytest
import torch

from ccd_mm.datasets.shapesml_generator import (SHAPESML_CLASSES,
                                                generate_shapesml)
from ccd_mm.engine import build_pseudo_label_dataset
from tests.fixtures.ccd_shapes_run import SIZE, ccd_shapes_config, load
from tests.fixtures.tools import load_tool

# Your own names for the classes, in your own order.
CLASS_NAMES = [f'{name} shape' for name in reversed(SHAPESML_CLASSES)]
EPOCHS = 3  # the update at the start of epoch 3 (0-based 2)


def write_photos(root):
    """Generated scenes as a folder of your own: images at the top and in
    nested folders, a class-name file, nothing else. Returns the folder of
    the training images, the class-name file and a folder of new images."""
    generate_shapesml(
        str(root / 'generated'),
        seed=0,
        num_train=12,
        num_test=12,
        image_size=SIZE)
    images = sorted((root / 'generated' / 'images' / 'train').iterdir())
    photos = root / 'photos'
    for index, image in enumerate(images):
        folder = photos / ('' if index < 4 else f'trip{index % 2}/day1')
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(image, folder / f'photo{index}.png')
    classes = root / 'classes.txt'
    classes.write_text('\n'.join(CLASS_NAMES) + '\n')
    new = root / 'new' / 'later'
    new.mkdir(parents=True)
    test_images = sorted((root / 'generated' / 'images' / 'test').iterdir())
    for image in test_images[:2]:
        shutil.copy(image, new / image.name)
    shutil.rmtree(root / 'generated')  # no annotation file anywhere
    return photos, classes, root / 'new'


@pytest.fixture(scope='module')
def run(tmp_path_factory, tiny_clip_resnet):
    root = tmp_path_factory.mktemp('own_images')
    photos, classes, new = write_photos(root)
    cfg = ccd_shapes_config(
        str(photos),
        tiny_clip_resnet,
        str(root / 'work'),
        max_epochs=EPOCHS,
        config='configs/shapes/ccd_shapesml_folder.py')
    folder = cfg.train_dataloader.dataset.dataset
    folder.update(data_prefix='', classes=str(classes))
    hooks = cfg.default_hooks
    # The folder config's label rule (the script's adaptive t), and the
    # hooks that check inputs and log label statistics.
    hooks.label_update.class_threshold = 'adaptive'
    hooks.pseudo_label_stats = dict(type='PseudoLabelStatsHook')
    hooks.eval_image_check = dict(type='EvalImageCheckHook')
    config = root / 'own_images.py'
    cfg.dump(str(config))
    load_tool('train').main([str(config)])
    return dict(
        config=str(config),
        cfg=cfg,
        work_dir=root / 'work',
        classes=classes,
        new=new)


def test_training_reads_images_and_class_names_only(run):
    dataset = build_pseudo_label_dataset(run['cfg'])
    assert len(dataset) == 12
    assert sum('/day1/' in path for path in dataset.image_paths()) == 8
    assert dataset.metainfo['classes'] == tuple(CLASS_NAMES)
    assert set(dataset.dataset.get_data_info(0)) == {'img_path', 'sample_idx'}
    for key in ('val_dataloader', 'val_evaluator', 'test_dataloader'):
        assert run['cfg'].get(key) is None


def test_the_label_free_rule_chose_the_checkpoint(run):
    work_dir = run['work_dir']
    chosen = load(work_dir / 'best_label_free.pth')
    assert chosen['meta']['dataset_meta']['classes'] == tuple(CLASS_NAMES)
    # The weights of one of the epochs.
    epochs = [
        load(work_dir / f'epoch_{epoch}.pth')['state_dict']
        for epoch in range(1, EPOCHS + 1)
    ]
    assert any(
        all(
            torch.equal(weights[name], value)
            for name, value in chosen['state_dict'].items())
        for weights in epochs)
    # The label update ran (at epoch 3, recording its boxes) and no
    # evaluation did.
    assert (work_dir / f'cam_boxes_epoch_{EPOCHS}.json').is_file()
    last = load(work_dir / f'epoch_{EPOCHS}.pth')
    scalars = last['message_hub']['log_scalars']
    assert 'train/pseudo_label_mAP' in scalars
    assert not [name for name in scalars if name.startswith(('val', 'test'))]


def test_visualize_draws_the_boxes_and_the_bias(run, tmp_path):
    visualize = load_tool('visualize')
    records = run['work_dir'] / f'cam_boxes_epoch_{EPOCHS}.json'
    assert json.loads(records.read_text())['classes'] == CLASS_NAMES
    visualize.main(['boxes', str(records), '--out-dir', str(tmp_path)])
    visualize.main([
        'labels', run['config'],
        str(run['work_dir'] / f'epoch_{EPOCHS}.pth'), '--out-dir',
        str(tmp_path)
    ])
    drawn = {path.name for path in tmp_path.iterdir()}
    assert {'class_bias.png', 'label_histogram.png'} <= drawn
    assert f'cam_boxes_epoch_{EPOCHS}_0.png' in drawn


def test_infer_names_the_classes_of_new_images(run, tmp_path):
    # The class names come with the checkpoint, not from the file.
    moved = run['classes'].rename(tmp_path / 'classes.txt')
    out = tmp_path / 'predictions.json'
    try:
        load_tool('infer').main([
            str(run['work_dir'] / 'best_label_free.pth'),
            str(run['new']), '--topk', '3', '--out',
            str(out)
        ])
    finally:
        moved.rename(run['classes'])
    predictions = json.loads(out.read_text())
    new_images = sorted(str(path) for path in run['new'].rglob('*.png'))
    assert [entry['image'] for entry in predictions] == new_images
    for entry in predictions:
        scores = [top['score'] for top in entry['top']]
        assert scores == sorted(scores, reverse=True)
        assert all(0 <= score <= 1 for score in scores)
        assert all(top['class'] in CLASS_NAMES for top in entry['top'])
