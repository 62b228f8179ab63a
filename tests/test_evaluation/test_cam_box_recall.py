import pytest
import torch

from ccd_mm.evaluation import cam_box_recall

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def _t(rows, dtype=torch.float):
    return torch.tensor(rows, dtype=dtype)


def test_recall_iou_whole_and_sizes_by_hand():
    # image 0 (side 100): a large object of class 1 at [0, 0, 50, 50] and a
    # small one of class 2 at [60, 60, 80, 80].
    # Boxes: class 1 [0, 0, 50, 40] (IoU 0.8, cuts the object), class 1
    # [0, 0, 60, 60] (IoU 2500 / 3600, contains it), class 2 on the large
    # object (wrong class), class 3 (absent) on the small one.
    # image 1 (side 100): class 0 object [10, 10, 40, 40], no box.
    report = cam_box_recall(
        proposal_boxes=[
            _t([[0, 0, 50, 40], [0, 0, 60, 60], [0, 0, 50, 50],
                [60, 60, 80, 80]]),
            torch.zeros(0, 4)
        ],
        proposal_classes=[
            _t([1, 1, 2, 3], torch.long),
            torch.zeros(0, dtype=torch.long)
        ],
        object_boxes=[
            _t([[0, 0, 50, 50], [60, 60, 80, 80]]),
            _t([[10, 10, 40, 40]])
        ],
        object_classes=[_t([1, 2], torch.long),
                        _t([0], torch.long)],
        image_sides=[100, 100])

    everything = report['all']
    assert everything['objects'] == 3
    # found: the large object only (0.8 >= 0.5); the small one's class-2
    # box is on the large object (IoU 0), image 1 has no box
    assert everything['recall'] == pytest.approx(100 / 3)
    # any class: large (class 1 and 2 boxes), small (the class-3 box)
    assert everything['recall_any_class'] == pytest.approx(200 / 3)
    assert everything['mean_best_iou'] == pytest.approx(0.8 / 3)
    # the best class-1 box (IoU 0.8) cuts the large object
    assert everything['whole'] == 0
    assert everything['boxes_of_class'] == pytest.approx(3 / 3)

    assert report['large']['objects'] == 2  # 50 and 30 px >= 0.3 * 100
    assert report['small']['objects'] == 1  # the 20 px object
    assert report['small']['recall'] == 0
    assert report['small']['recall_any_class'] == 100
    assert report['small']['boxes_of_class'] == 1

    assert report['proposals']['boxes_per_image'] == 2
    assert report['proposals']['absent_class'] == 25  # the class-3 box


def test_whole_when_the_best_box_contains_the_object():
    report = cam_box_recall([_t([[0, 0, 60, 60]])], [_t([1], torch.long)],
                            [_t([[5, 5, 50, 50]])], [_t([1], torch.long)],
                            [100])
    assert report['all']['whole'] == 100
    assert report['all']['recall'] == 100
    assert report['all']['mean_best_iou'] == pytest.approx(45 * 45 / 3600)
