"""The boxes of the crop oracle and of the cut-object check, by hand."""
import pytest
import torch

from ccd_mm.labeling import BOX_EDGES, cut_boxes, grown_boxes


def test_grown_boxes_scale_to_the_view_grow_and_clip():
    boxes = grown_boxes([[[10, 20, 50, 60]]], [(100, 200)], 50, 4)
    # x scaled by 50 / 100, y by 50 / 200, then 4 px on every side.
    assert boxes[0].tolist() == [[1, 1, 29, 19]]
    edge = grown_boxes([[[0, 0, 100, 200]]], [(100, 200)], 50, 4)
    assert edge[0].tolist() == [[0, 0, 50, 50]]


def test_cut_boxes_move_one_edge_inward_by_a_share_of_the_side():
    boxes = torch.tensor([[10, 20, 50, 100]] * 4)  # 40 wide, 80 high
    cut = cut_boxes(boxes, 0.25, torch.arange(4))
    assert BOX_EDGES == ('left', 'top', 'right', 'bottom')
    assert cut.tolist() == [
        [20, 20, 50, 100],  # left edge 10 px (a quarter of 40) inward
        [10, 40, 50, 100],  # top edge 20 px (a quarter of 80) down
        [10, 20, 40, 100],
        [10, 20, 50, 80],
    ]
    assert torch.equal(cut_boxes(boxes, 0., torch.arange(4)), boxes.float())


def test_cut_boxes_keep_a_pixel_and_refuse_whole_cuts():
    tiny = cut_boxes(torch.tensor([[5, 5, 6, 6]]), 0.9, torch.tensor([2]))
    assert tiny.tolist() == [[5, 5, 6, 6]]
    with pytest.raises(ValueError, match='fraction'):
        cut_boxes(torch.tensor([[0, 0, 4, 4]]), 1.0, torch.tensor([0]))
