"""PASCAL VOC through mmpretrain's own ``VOC`` dataset (no ccd_mm class)."""
import pytest
from mmpretrain.datasets.categories import VOC2007_CATEGORIES
from mmpretrain.registry import DATASETS, METRICS
from mmpretrain.structures import label_to_onehot
from PIL import Image

CLASS = {name: i for i, name in enumerate(VOC2007_CATEGORIES)}
TEST_PIPELINE = [
    dict(type='LoadImageFromFile'),
    # VOC metrics read ``gt_label_difficult``; PackInputs drops it otherwise.
    dict(
        type='PackInputs',
        meta_keys=('sample_idx', 'img_path', 'gt_label_difficult')),
]


def annotation_xml(image_id, objects, with_difficult=True):
    """VOC xml for ``objects``, a list of (class name, difficult) pairs."""
    parts = [
        f'<annotation><folder>VOC</folder>'
        f'<filename>{image_id}.jpg</filename>'
        '<size><width>8</width><height>8</height><depth>3</depth></size>'
    ]
    for name, difficult in objects:
        tag = f'<difficult>{difficult}</difficult>' if with_difficult else ''
        parts.append(f'<object><name>{name}</name><pose>Unspecified</pose>'
                     f'<truncated>0</truncated>{tag}<bndbox><xmin>1</xmin>'
                     '<ymin>1</ymin><xmax>6</xmax><ymax>6</ymax></bndbox>'
                     '</object>')
    return ''.join(parts) + '</annotation>'


def write_voc(root, splits, absent_images=()):
    """Write a VOC tree; ``splits`` maps a split name to a dict
    ``{image id: [(class name, difficult), ...]}``."""
    for sub in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for split, images in splits.items():
        (root / 'ImageSets' / 'Main' / f'{split}.txt').write_text(''.join(
            f'{image_id}\n' for image_id in images))
        for image_id, objects in images.items():
            (root / 'Annotations' / f'{image_id}.xml').write_text(
                annotation_xml(image_id, objects))
            if image_id not in absent_images:
                Image.new('RGB', (8, 8), (10, 120, 10)).save(
                    root / 'JPEGImages' / f'{image_id}.jpg')


def every_class_split(first_id):
    """Four images sharing the 20 classes (mAP needs a positive in every
    class) and one whose only object, a dog, is difficult."""
    images = {
        f'{first_id + k:06d}': [(name, 0) for name in VOC2007_CATEGORIES[k::4]]
        for k in range(4)
    }
    images[f'{first_id + 4:06d}'] = [('dog', 1)]
    return images


TRAIN_IMAGES = {
    # A class with a difficult and a non-difficult object is a label.
    '000005': [('chair', 0), ('chair', 1), ('diningtable', 0)],
    '000007': [('car', 0)],
    # A class seen only on difficult objects is not a label.
    '000009': [('person', 1), ('horse', 0)],
}


def write_voc_devkit(root):
    """``root/VOC2007`` (trainval, test) and ``root/VOC2012`` (train, val)
    as the VOC devkit lays them out."""
    write_voc(root / 'VOC2007',
              dict(trainval=TRAIN_IMAGES, test=every_class_split(100)))
    write_voc(root / 'VOC2012',
              dict(train=TRAIN_IMAGES, val=every_class_split(200)))
    return root


@pytest.fixture
def voc_roots(tmp_path):
    return write_voc_devkit(tmp_path)


@pytest.mark.parametrize('year,split', [('2007', 'trainval'),
                                        ('2012', 'train')])
def test_train_split_counts_labels_and_difficult(voc_roots, year, split):
    dataset = DATASETS.build(
        dict(type='VOC', data_root=str(voc_roots / f'VOC{year}'), split=split))
    assert dataset.CLASSES == VOC2007_CATEGORIES
    assert len(dataset.CLASSES) == 20
    assert len(dataset) == 3
    infos = [dataset.get_data_info(i) for i in range(3)]
    assert [info['img_path'][-10:]
            for info in infos] == ['000005.jpg', '000007.jpg', '000009.jpg']
    assert sorted(
        infos[0]['gt_label']) == [CLASS['chair'], CLASS['diningtable']]
    assert infos[0]['gt_label_difficult'] == [CLASS['chair']]
    assert infos[1]['gt_label'] == [CLASS['car']]
    assert infos[1]['gt_label_difficult'] == []
    assert infos[2]['gt_label'] == [CLASS['horse']]
    assert infos[2]['gt_label_difficult'] == [CLASS['person']]


def evaluate(dataset, metric_cfg, score_difficult):
    """Score every sample with its one-hot label; difficult-only classes
    get ``score_difficult``."""
    metric = METRICS.build(metric_cfg)
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        scores = label_to_onehot(sample.gt_label, 20).float()
        difficult_only = (
            set(sample.gt_label_difficult) - set(sample.gt_label.tolist()))
        scores[list(difficult_only)] = score_difficult
        sample.set_pred_score(scores)
        metric.process(None, [sample.to_dict()])
    return metric.evaluate(len(dataset))['multi-label/mAP']


@pytest.mark.parametrize('year,split', [('2007', 'test'), ('2012', 'val')])
def test_perfect_predictions_give_voc_map_100(voc_roots, year, split):
    dataset = DATASETS.build(
        dict(
            type='VOC',
            data_root=str(voc_roots / f'VOC{year}'),
            split=split,
            test_mode=True,
            pipeline=TEST_PIPELINE))
    assert len(dataset) == 5
    map_ = evaluate(dataset, dict(type='VOCAveragePrecision'), 0.0)
    assert map_ == pytest.approx(100.0)


def test_difficult_only_labels_are_ignored_by_voc_metric(voc_roots):
    dataset = DATASETS.build(
        dict(
            type='VOC',
            data_root=str(voc_roots / 'VOC2007'),
            split='test',
            test_mode=True,
            pipeline=TEST_PIPELINE))
    # A "dog" scored above every true dog on the difficult-only image is
    # neither a hit nor a false positive for VOCAveragePrecision (the VOC
    # devkit convention) ...
    voc_map = evaluate(dataset, dict(type='VOCAveragePrecision'), 2.0)
    assert voc_map == pytest.approx(100.0)
    # ... while plain AveragePrecision ranks it as a false positive first:
    # the dog AP drops to 1/2, the mean over 20 classes by 2.5 points.
    plain_map = evaluate(dataset, dict(type='AveragePrecision'), 2.0)
    assert plain_map == pytest.approx(100.0 - 50.0 / 20)


def test_missing_annotation_fails_at_construction(voc_roots):
    (voc_roots / 'VOC2007' / 'Annotations' / '000007.xml').unlink()
    with pytest.raises(FileNotFoundError):
        DATASETS.build(
            dict(
                type='VOC',
                data_root=str(voc_roots / 'VOC2007'),
                split='trainval'))


def test_object_without_difficult_tag_fails_at_construction(voc_roots):
    (voc_roots / 'VOC2012' / 'Annotations' / '000007.xml').write_text(
        annotation_xml('000007', [('car', 0)], with_difficult=False))
    with pytest.raises(AttributeError):
        DATASETS.build(
            dict(
                type='VOC',
                data_root=str(voc_roots / 'VOC2012'),
                split='train'))


def test_missing_image_is_not_checked_at_construction(voc_roots):
    """mmpretrain's VOC lists an absent JPEG and fails only when loading it;
    our configs' EvalImageCheckHook catches it before a run starts
    (tests/test_engine/test_eval_image_check_hook.py)."""
    (voc_roots / 'VOC2007' / 'JPEGImages' / '000007.jpg').unlink()
    dataset = DATASETS.build(
        dict(
            type='VOC',
            data_root=str(voc_roots / 'VOC2007'),
            split='trainval',
            pipeline=[dict(type='LoadImageFromFile')]))
    assert len(dataset) == 3
    assert dataset[0]['img'].shape == (8, 8, 3)
    with pytest.raises(FileNotFoundError):
        dataset.prepare_data(1)
