import json
from unittest import mock

import pytest
from mmengine.logging import MMLogger
from mmpretrain.registry import DATASETS, METRICS
from mmpretrain.structures import label_to_onehot

from ccd_mm.datasets import COCOMultiLabel
from ccd_mm.datasets.coco_multilabel import COCO_CATEGORIES
from tests.fixtures.coco_layout import file_name, write_coco

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


@pytest.fixture
def coco_root(tmp_path):
    return write_coco(tmp_path)


def test_class_order_follows_coco_category_ids(coco_root):
    dataset = COCOMultiLabel(data_root=str(coco_root), split='train')
    assert len(dataset.CLASSES) == 80
    assert dataset.CLASSES[0] == 'person'
    assert dataset.CLASSES[16] == 'dog'
    assert dataset.CLASSES[79] == 'toothbrush'
    assert dataset.CLASSES == COCO_CATEGORIES


def test_train_drops_unannotated_and_missing_files(coco_root):
    dataset = DATASETS.build(
        dict(type='COCOMultiLabel', data_root=str(coco_root), split='train'))
    assert dataset.image_counts == dict(
        listed=5, unannotated=1, missing_file=1, loaded=3)
    assert len(dataset) == 3
    labels = {
        info['img_path'].split('/')[-1]: info['gt_label']
        for info in (dataset.get_data_info(i) for i in range(len(dataset)))
    }
    # Sorted by image id; duplicate and crowd annotations collapse.
    assert list(labels) == [file_name('train', i) for i in (9, 25, 36)]
    assert labels[file_name('train', 9)] == [0, 16]
    assert labels[file_name('train', 25)] == [23, 79]
    # A corrupt file is listed: decoding is not done at construction.
    assert labels[file_name('train', 36)] == [15]


def test_train_keeps_unannotated_when_asked(coco_root):
    dataset = COCOMultiLabel(
        data_root=str(coco_root), split='train', keep_unannotated=True)
    assert dataset.image_counts == dict(
        listed=5, unannotated=1, missing_file=1, loaded=4)
    assert dataset.get_data_info(2)['gt_label'] == []
    assert dataset.get_data_info(2)['img_path'].endswith(
        file_name('train', 30))


def test_missing_files_are_logged_with_count(coco_root):
    with mock.patch.object(MMLogger.get_current_instance(),
                           'warning') as warning:
        COCOMultiLabel(data_root=str(coco_root), split='train')
    message = warning.call_args.args[0]
    assert '1 image files are missing' in message
    assert file_name('train', 34) in message


def test_val_keeps_unannotated_as_all_negative(coco_root):
    dataset = COCOMultiLabel(data_root=str(coco_root), split='val')
    assert dataset.image_counts == dict(
        listed=5, unannotated=1, missing_file=0, loaded=5)
    assert dataset.get_data_info(4)['gt_label'] == []
    assert dataset.get_data_info(0)['gt_label'] == list(range(0, 80, 4))


def test_perfect_predictions_give_map_100(coco_root):
    dataset = COCOMultiLabel(
        data_root=str(coco_root),
        split='val',
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='PackInputs')])
    metric = METRICS.build(dict(type='AveragePrecision'))
    for i in range(len(dataset)):
        packed = dataset[i]
        assert tuple(packed['inputs'].shape) == (3, 8, 8)
        sample = packed['data_samples']
        sample.set_pred_score(label_to_onehot(sample.gt_label, 80).float())
        metric.process(None, [sample.to_dict()])
    result = metric.evaluate(len(dataset))
    assert result['multi-label/mAP'] == pytest.approx(100.0)


def test_subset_of_classes_is_matched_by_name(coco_root):
    dataset = COCOMultiLabel(
        data_root=str(coco_root),
        split='train',
        metainfo=dict(classes=('dog', 'person')))
    # Only image 9 has a dog or a person.
    assert dataset.image_counts['loaded'] == 1
    assert dataset.get_data_info(0)['gt_label'] == [0, 1]


def test_unknown_class_is_a_clear_error(coco_root):
    with pytest.raises(ValueError, match='unicorn'):
        COCOMultiLabel(
            data_root=str(coco_root),
            split='train',
            metainfo=dict(classes=('person', 'unicorn')))


def test_no_image_found_is_a_clear_error(coco_root):
    with pytest.raises(FileNotFoundError, match='check data_root'):
        COCOMultiLabel(
            data_root=str(coco_root), split='val', data_prefix='nowhere')


def test_unknown_split_is_rejected(coco_root):
    with pytest.raises(ValueError, match='split'):
        COCOMultiLabel(data_root=str(coco_root), split='test')


def rewrite_annotations(coco_root, change):
    path = coco_root / 'annotations' / 'instances_train2014.json'
    path.write_text(change(path.read_text()))
    return str(path)


@pytest.mark.parametrize('change, problem', [
    (lambda text: text[:len(text) // 2], 'is not valid JSON, truncated'),
    (lambda text: json.dumps({
        k: v
        for k, v in json.loads(text).items() if k != 'categories'
    }), r"has no \['categories'\]: not a COCO instances file"),
    (lambda text: json.dumps(dict(json.loads(text), images=[])),
     'lists no images'),
    (lambda text: json.dumps(
        dict(
            json.loads(text),
            annotations=json.loads(text)['annotations'] +
            [dict(id=99, image_id=424242, category_id=1, iscrowd=0)])),
     r'annotates 1 image ids that it does not list in '
     r'"images", e.g. \[424242\]'),
])
def test_broken_annotation_file_is_named_with_its_problem(
        coco_root, change, problem):
    path = rewrite_annotations(coco_root, change)
    with pytest.raises(ValueError, match=f'{path} {problem}'):
        COCOMultiLabel(data_root=str(coco_root), split='train')


def test_split_without_annotated_image_is_named(coco_root):
    path = rewrite_annotations(
        coco_root,
        lambda text: json.dumps(dict(json.loads(text), annotations=[])))
    with pytest.raises(ValueError, match=f'none of the 5 images of {path}'):
        COCOMultiLabel(data_root=str(coco_root), split='train')


def without_key(text, records, key, index=1):
    """The json with ``key`` removed from record ``index`` of
    ``records``."""
    coco = json.loads(text)
    del coco[records][index][key]
    return json.dumps(coco)


def with_category(text, category_id, index=1):
    coco = json.loads(text)
    coco['annotations'][index]['category_id'] = category_id
    return json.dumps(coco)


@pytest.mark.parametrize('change, problem', [
    (lambda text: without_key(text, 'images', 'file_name'),
     r'images\[1\] has no \[\'file_name\'\] \(\{.*\}\); every record of '
     r'"images" needs \[\'id\', \'file_name\'\]'),
    (lambda text: without_key(text, 'images', 'id'),
     r'images\[1\] has no \[\'id\'\]'),
    (lambda text: without_key(text, 'annotations', 'category_id'),
     r'annotations\[1\] has no \[\'category_id\'\]'),
    (lambda text: without_key(text, 'annotations', 'image_id'),
     r'annotations\[1\] has no \[\'image_id\'\]'),
    (lambda text: without_key(text, 'categories', 'name'),
     r'categories\[1\] has no \[\'name\'\]'),
    (lambda text: with_category(text, 777),
     r'annotations\[1\] has category_id 777, which is no category of the '
     r'file \(ids 1\.\.90\)'),
])
def test_broken_record_is_named_with_file_record_and_value(
        coco_root, change, problem):
    path = rewrite_annotations(coco_root, change)
    with pytest.raises(ValueError, match=f'{path}: {problem}'):
        COCOMultiLabel(data_root=str(coco_root), split='train')
