from unittest import mock

import pytest
from mmengine.logging import MMLogger
from mmpretrain.registry import DATASETS, METRICS
from mmpretrain.structures import label_to_onehot

from ccd_mm.datasets import NUSWIDE
from tests.fixtures.nus_wide_layout import AIRPORT, CAT, SKY, ZEBRA, write_nus

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


@pytest.fixture
def nus_root(tmp_path):
    return write_nus(tmp_path)


def loaded_labels(dataset):
    """Map '<dir>/<file>' of every loaded image to its label."""
    infos = (dataset.get_data_info(i) for i in range(len(dataset)))
    return {
        '/'.join(info['img_path'].split('/')[-2:]): info['gt_label']
        for info in infos
    }


def test_class_order_is_concepts81(nus_root):
    dataset = NUSWIDE(data_root=str(nus_root), split='train')
    assert len(dataset.CLASSES) == 81
    assert dataset.CLASSES[AIRPORT] == 'airport'
    assert dataset.CLASSES[ZEBRA] == 'zebra'
    assert list(dataset.CLASSES) == sorted(dataset.CLASSES)


def test_train_counts_and_labels(nus_root):
    dataset = DATASETS.build(
        dict(type='NUSWIDE', data_root=str(nus_root), split='train'))
    assert dataset.image_counts == dict(
        listed=5, unlabeled=1, missing_file=1, loaded=4)
    assert loaded_labels(dataset) == {
        'actor/0001_101.jpg': [AIRPORT, ZEBRA],
        'beach/0002_102.jpg': [],
        'cat/0004_104.jpg': [CAT],
        # A corrupt file is listed: decoding is not done at construction.
        'cat/0005_105.jpg': [SKY],
    }
    assert dataset.get_data_info(0)['img_path'] == str(
        nus_root / 'Flickr' / 'actor' / '0001_101.jpg')


def test_unlabeled_images_dropped_when_asked(nus_root):
    dataset = NUSWIDE(
        data_root=str(nus_root), split='train', keep_unlabeled=False)
    assert dataset.image_counts == dict(
        listed=5, unlabeled=1, missing_file=1, loaded=3)
    assert 'beach/0002_102.jpg' not in loaded_labels(dataset)


def test_missing_files_are_logged_with_count(nus_root):
    with mock.patch.object(MMLogger.get_current_instance(),
                           'warning') as warning:
        NUSWIDE(data_root=str(nus_root), split='train')
    message = warning.call_args.args[0]
    assert '1 image files are missing' in message
    assert '0003_103.jpg' in message


def test_perfect_predictions_give_map_100(nus_root):
    dataset = NUSWIDE(
        data_root=str(nus_root),
        split='test',
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='PackInputs')])
    assert dataset.image_counts == dict(
        listed=4, unlabeled=1, missing_file=0, loaded=4)
    metric = METRICS.build(dict(type='AveragePrecision'))
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        sample.set_pred_score(label_to_onehot(sample.gt_label, 81).float())
        metric.process(None, [sample.to_dict()])
    result = metric.evaluate(len(dataset))
    assert result['multi-label/mAP'] == pytest.approx(100.0)


def test_label_file_length_mismatch_is_a_clear_error(nus_root):
    label_file = (
        nus_root / 'Groundtruth' / 'TrainTestLabels' / 'Labels_dog_Train.txt')
    label_file.write_text('0\n1\n')
    with pytest.raises(ValueError, match='Labels_dog_Train.txt has 2'):
        NUSWIDE(data_root=str(nus_root), split='train')


def test_label_value_other_than_0_1_is_a_clear_error(nus_root):
    label_file = (
        nus_root / 'Groundtruth' / 'TrainTestLabels' / 'Labels_sky_Test.txt')
    label_file.write_text('0\n1\n2\n0\n')
    with pytest.raises(ValueError, match='other than 0/1'):
        NUSWIDE(data_root=str(nus_root), split='test')


def test_class_missing_from_concept_file_is_a_clear_error(nus_root):
    with pytest.raises(ValueError, match='unicorn'):
        NUSWIDE(
            data_root=str(nus_root),
            split='train',
            metainfo=dict(classes=('dog', 'unicorn')))


def test_subset_of_concepts(nus_root):
    dataset = NUSWIDE(
        data_root=str(nus_root),
        split='train',
        metainfo=dict(classes=('zebra', 'cat')))
    assert dataset.image_counts == dict(
        listed=5, unlabeled=3, missing_file=1, loaded=4)
    assert loaded_labels(dataset)['actor/0001_101.jpg'] == [0]
    assert loaded_labels(dataset)['cat/0004_104.jpg'] == [1]


def test_no_image_found_is_a_clear_error(nus_root):
    with pytest.raises(FileNotFoundError, match='check data_root'):
        NUSWIDE(data_root=str(nus_root), split='test', data_prefix='images')


def test_unknown_split_is_rejected(nus_root):
    with pytest.raises(ValueError, match='split'):
        NUSWIDE(data_root=str(nus_root), split='val')


def test_empty_image_list_is_named(nus_root):
    image_list = nus_root / 'ImageList' / 'TrainImagelist.txt'
    image_list.write_text('\r\n')
    with pytest.raises(ValueError, match=f'{image_list} lists no images'):
        NUSWIDE(data_root=str(nus_root), split='train')
