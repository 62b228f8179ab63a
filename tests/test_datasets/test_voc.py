"""PASCAL VOC through mmpretrain's own ``VOC`` dataset (no ccd_mm class)."""
import pytest
from mmpretrain.datasets.categories import VOC2007_CATEGORIES
from mmpretrain.registry import DATASETS, METRICS
from mmpretrain.structures import label_to_onehot

from tests.fixtures.voc_layout import annotation_xml, write_voc_devkit

CLASS = {name: i for i, name in enumerate(VOC2007_CATEGORIES)}
TEST_PIPELINE = [
    dict(type='LoadImageFromFile'),
    # VOC metrics read ``gt_label_difficult``; PackInputs drops it otherwise.
    dict(
        type='PackInputs',
        meta_keys=('sample_idx', 'img_path', 'gt_label_difficult')),
]

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


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
