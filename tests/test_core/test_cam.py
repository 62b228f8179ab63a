import pytest
import torch

from ccd_mm.core import (adaptive_class_threshold, cam_to_boxes,
                         scale_positive_cam, select_classes,
                         windowed_class_threshold)

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def test_select_classes_inclusive_threshold():
    logits = torch.tensor([[0.0, 2.0, -2.0]])
    assert select_classes(logits, 0.5).tolist() == [[True, True, False]]
    assert select_classes(logits, 0.9).tolist() == [[False, False, False]]


def _script_threshold(probs, bound=4, start=0.05, step=0.001, max_iter=2000):
    """The released script's loop, with an iteration cap (it may not stop)."""
    t = start
    for _ in range(max_iter):
        count = (probs >= t).sum(dim=1).double().mean().item()
        if bound < count < bound + 2:
            return t
        t += step
    return None


# Values sit between grid points (start + k * step) so that no float32 value
# ties with a threshold.
ROW_DESC = [
    0.9004, 0.8004, 0.7004, 0.6004, 0.5004, 0.4004, 0.3004, 0.2004, 0.1004,
    0.0104
]


def test_threshold_first_grid_point_with_count_below_bound_plus_2():
    # 10 classes per row; count >= t drops to 5 for t in (0.4004, 0.5004].
    probs = torch.tensor([ROW_DESC, ROW_DESC])
    assert adaptive_class_threshold(probs) == pytest.approx(0.401)
    assert _script_threshold(probs) == pytest.approx(0.401)


def test_threshold_uses_mean_over_rows():
    # Row 1 has 8 classes >= t (for t <= 0.9504): mean (n0 + 8) / 2 < 6
    # needs n0 <= 3, i.e. t > 0.6004. With bound 2 it needs t > 0.9504.
    probs = torch.tensor([ROW_DESC, [0.9504] * 8 + [0.0104] * 2])
    assert adaptive_class_threshold(probs) == pytest.approx(0.601)
    assert adaptive_class_threshold(probs, bound=2) == pytest.approx(0.951)


def test_threshold_already_low_at_start_returns_start():
    probs = torch.full((3, 10), 0.01)  # count 0 <= bound: script never ends
    assert adaptive_class_threshold(probs) == pytest.approx(0.05)
    in_interval = torch.tensor([[0.9] * 5 + [0.01] * 5])  # count 5 at start
    assert adaptive_class_threshold(in_interval) == pytest.approx(0.05)


def test_threshold_count_jumping_over_interval_terminates():
    # 10 classes at 0.5004: the count goes 10 -> 0 between 0.500 and 0.501.
    probs = torch.full((2, 10), 0.5004)
    assert _script_threshold(probs) is None
    assert adaptive_class_threshold(probs) == pytest.approx(0.501)


def test_threshold_capped_at_one():
    probs = torch.ones((2, 10))
    assert adaptive_class_threshold(probs) == 1.0
    assert adaptive_class_threshold(probs, start=1.5) == 1.0


def test_threshold_matches_script_loop_on_random_rows():
    gen = torch.Generator().manual_seed(0)
    compared = 0
    for _ in range(5):
        probs = torch.rand((20, 12), generator=gen)
        expected = _script_threshold(probs)
        if expected is not None:
            compared += 1
            assert adaptive_class_threshold(probs) == pytest.approx(
                expected, abs=1e-9)
    assert compared > 0


def _mirrored_l_cam():
    """8x8 map, an L mirrored: column x=4 for rows 2..5, row y=5 for x 1..4."""
    cam = torch.zeros(8, 8)
    cam[2:6, 4] = 1.0
    cam[5, 1:5] = 1.0
    return cam


def test_l_shape_true_bounding_box_not_script_corners():
    cam = _mirrored_l_cam()
    # Row-major first above-threshold pixel (y=2, x=4), last (y=5, x=4): the
    # script's box is x in [4, 5), y in [2, 6), which drops the foot of the L.
    script_box = [4, 2, 5, 6]
    # True bounding box: x from 1 to 4, y from 2 to 5 (inclusive).
    true_box = [1, 2, 5, 6]
    boxes = cam_to_boxes(cam[None], (8, 8), offset=0)
    assert boxes.dtype == torch.long
    assert boxes.tolist() == [true_box]
    assert boxes.tolist() != [script_box]


def test_offset_grows_and_clips_to_image():
    cam = _mirrored_l_cam()[None]
    assert cam_to_boxes(cam, (8, 8), offset=1).tolist() == [[0, 1, 6, 7]]
    assert cam_to_boxes(cam, (8, 8), offset=2).tolist() == [[0, 0, 7, 8]]
    assert cam_to_boxes(cam, (8, 8), offset=80).tolist() == [[0, 0, 8, 8]]


def test_box_axes_on_non_square_image():
    cam = torch.zeros(1, 4, 6)
    cam[0, 1, 4] = 3.0  # y = 1, x = 4
    assert cam_to_boxes(cam, (4, 6), offset=0).tolist() == [[4, 1, 5, 2]]
    assert cam_to_boxes(cam, (4, 6), offset=1).tolist() == [[3, 0, 6, 3]]


def test_bilinear_upsampling_then_threshold():
    # 2x2 -> 4x4 with align_corners=False: along each axis the weight of the
    # hot source pixel at output i is clamp(0.5 i - 0.25, 0, 1), i.e.
    # 0, 0.25, 0.75, 1; the map is their outer product.
    cam = torch.tensor([[[0.0, 0.0], [0.0, 1.0]]])
    assert cam_to_boxes(cam, (4, 4), offset=0).tolist() == [[3, 3, 4, 4]]
    # >= 0.7 keeps 1 (3,3), 0.75 (2,3) and (3,2); 0.5625 at (2,2) is out.
    assert cam_to_boxes(
        cam, (4, 4), threshold=0.7, offset=0).tolist() == [[2, 2, 4, 4]]
    # Shifting and scaling the map does not change the min-max normalised box.
    assert cam_to_boxes(
        5 * cam - 2, (4, 4), threshold=0.7,
        offset=0).tolist() == [[2, 2, 4, 4]]


def test_several_maps_empty_and_constant():
    cams = torch.zeros(3, 8, 8)
    cams[0] = _mirrored_l_cam()
    cams[1, 0, 7] = 1.0
    cams[2] = 0.3  # constant: nothing above threshold -> whole image
    boxes = cam_to_boxes(cams, (8, 8), offset=0)
    assert boxes.tolist() == [[1, 2, 5, 6], [7, 0, 8, 1], [0, 0, 8, 8]]
    empty = cam_to_boxes(torch.zeros(0, 8, 8), (8, 8))
    assert empty.shape == (0, 4)
    assert empty.dtype == torch.long


def test_scale_positive_cam_scales_only_positive_values():
    cam = torch.tensor([[-2.0, 0.0, 0.5, 1.0]])
    torch.testing.assert_close(
        scale_positive_cam(cam, 3.0), torch.tensor([[-2.0, 0.0, 1.5, 3.0]]))


def test_boxes_of_the_scaled_cam_are_not_the_unscaled_ones():
    """Min-max normalisation after the x3 of the positive part moves the
    positive values towards 0: (0.85 + 3) / 4 = 0.9625 passes 0.95,
    (3 * 0.85 + 3) / 6 = 0.925 does not."""
    cam = torch.tensor([[[-3.0, 0.0, 0.85, 1.0]]])
    unscaled = cam_to_boxes(cam, (1, 4), threshold=0.95, offset=0)
    scaled = cam_to_boxes(
        scale_positive_cam(cam, 3.0), (1, 4), threshold=0.95, offset=0)
    assert unscaled.tolist() == [[2, 0, 4, 1]]
    assert scaled.tolist() == [[3, 0, 4, 1]]


def rows_with_counts(counts, high=0.9):
    """Probability rows (N, 20) with counts[i] classes at ``high``."""
    probs = torch.zeros(len(counts), 20)
    for row, count in enumerate(counts):
        probs[row, :count] = high
    return probs


def test_windowed_threshold_first_window_is_101_images_over_100():
    """train.py checks at idx 100, 200, ...: its first window holds the 101
    images 0-100 and every window's sum is divided by 100: 101 rows of 4
    give 4.04, inside (4, 6)."""
    probs = rows_with_counts([4] * 101)
    assert windowed_class_threshold([probs], bound=4) == 0.05
    # 100 rows of 4 and one of 0 give 4.0, not inside: t rises and the
    # data ends before another window.
    probs = rows_with_counts([4] * 100 + [0])
    assert windowed_class_threshold([probs], bound=4) == pytest.approx(0.051)


def test_windowed_threshold_rises_one_step_per_window():
    """8 classes at 0.0505 pass t = 0.05 only: the first window counts 13
    each (13.13), the second, at t = 0.051, counts 5 each (5.0)."""
    probs = rows_with_counts([5] * 300)
    probs[:, 10:18] = 0.0505
    assert windowed_class_threshold([probs], bound=4) == pytest.approx(0.051)


def test_windowed_threshold_counts_each_image_at_the_current_t():
    """Images after the first window are counted at the raised t: rows whose
    classes lie just below it count 0 there."""
    probs = rows_with_counts([10] * 101 + [5] * 100, high=0.0505)
    # window 1 at 0.05: 10.1; window 2 at 0.051: 0; the pass ends, t raised
    # twice.
    assert windowed_class_threshold([probs], bound=4) == pytest.approx(0.052)


def test_windowed_threshold_ends_with_the_data():
    """One upward pass: the trailing partial window is never checked."""
    probs = rows_with_counts([10] * 250)
    assert windowed_class_threshold([probs], bound=4) == pytest.approx(0.052)


def test_windowed_threshold_reads_chunks_lazily_and_stops_early():
    probs = rows_with_counts([13] * 101 + [5] * 100 + [10] * 100)
    probs[:101, 5:13] = 0.0505
    chunks_read = []

    def chunks():
        for begin in range(0, len(probs), 30):
            chunks_read.append(begin)
            yield probs[begin:begin + 30]

    assert windowed_class_threshold(chunks(), bound=4) == pytest.approx(0.051)
    # The stop is at image 200, in the chunk from 180: nothing after it.
    assert chunks_read[-1] == 180


def test_row_major_corners_are_the_scripts_box():
    """An L-shaped region: the bounding box spans columns 1-4, the first
    above-threshold pixel in row-major order is (1, 4) and the last (3, 1):
    the script's box spans the rows 1-3 and the columns 1-4 too, but an L
    the other way round, first (1, 1) and last (3, 2), spans columns 1-2
    only. The script's slice ends at the last pixel's index + offset."""
    cams = torch.zeros(2, 5, 6)
    cams[0, 1, 4] = cams[0, 2, 1:5] = cams[0, 3, 1] = 1.0
    cams[1, 1, 1] = cams[1, 2, 1:5] = cams[1, 3, 2] = 1.0
    bounding = cam_to_boxes(cams, (5, 6), threshold=0.95, offset=0)
    assert bounding.tolist() == [[1, 1, 5, 4], [1, 1, 5, 4]]
    script = cam_to_boxes(
        cams, (5, 6), threshold=0.95, offset=0, box_rule='row_major_corners')
    assert script.tolist() == [[1, 1, 4, 3], [1, 1, 2, 3]]
    grown = cam_to_boxes(
        cams, (5, 6), threshold=0.95, offset=1, box_rule='row_major_corners')
    assert grown.tolist() == [[0, 0, 5, 4], [0, 0, 3, 4]]
