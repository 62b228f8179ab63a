import torch

from ccd_mm.core.box_pooling import box_cell_mask, pool_in_boxes


def test_a_cell_belongs_to_a_box_that_holds_its_centre():
    # 4 x 4 cells of 16 px over a 64 px view: centres at 8, 24, 40, 56.
    boxes = torch.tensor([[0, 0, 64, 64], [10, 20, 41, 30], [30, 0, 64, 9]])
    mask = box_cell_mask(boxes, 64, (4, 4))
    assert mask[0].all()
    expected = torch.zeros(4, 4, dtype=torch.bool)
    expected[1, 1:3] = True  # rows: 24 in [20, 30); cols: 24, 40 in [10, 41)
    assert torch.equal(mask[1], expected)
    expected = torch.zeros(4, 4, dtype=torch.bool)
    expected[0, 2:] = True  # x2 exclusive: 56 < 64; y 8 < 9
    assert torch.equal(mask[2], expected)


def test_a_box_between_centres_gets_the_cell_of_its_own_centre():
    mask = box_cell_mask(torch.tensor([[17, 33, 23, 39]]), 64, (4, 4))
    expected = torch.zeros(1, 4, 4, dtype=torch.bool)
    expected[0, 2, 1] = True  # centre (20, 36)
    assert torch.equal(mask, expected)


def test_pool_is_the_mean_of_the_box_cells():
    dense = torch.arange(4 * 6 * 2, dtype=torch.float64).view(4, 6, 2)
    boxes = torch.tensor([[0, 0, 96, 96], [16, 10, 48, 40]])
    pooled = pool_in_boxes(dense, boxes, 96)
    torch.testing.assert_close(pooled[0], dense.mean(dim=(0, 1)))
    # Rows of 24 px, columns of 16 px on the 96 px view: row centres 12,
    # 36, 60, 84 (12 and 36 in [10, 40)); column centres 8, 24, 40, 56, ...
    # (24 and 40 in [16, 48)).
    torch.testing.assert_close(pooled[1], dense[0:2, 1:3].mean(dim=(0, 1)))
