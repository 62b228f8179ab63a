import pytest
import torch

from ccd_mm.core import (blend_labels, cdul_global_local, debias,
                         fuse_global_and_dense, grid_boxes, local_max)

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def test_local_max_per_image_and_zeros_without_patches():
    patch_probs = torch.tensor([[0.1, 0.5], [0.4, 0.2], [0.3, 0.9], [0.6,
                                                                     0.0]])
    image_index = torch.tensor([0, 0, 2, 0])
    local = local_max(patch_probs, image_index, num_images=3)
    assert local.shape == (3, 2)
    assert local.flatten().tolist() == pytest.approx(
        [0.6, 0.5, 0.0, 0.0, 0.3, 0.9])
    none = local_max(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long), 2)
    assert none.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_blend_labels_eq7():
    initial = torch.tensor([[0.5, 1.0, 0.0]])
    local = torch.tensor([[1.0, 1.0, 0.2]])
    # 0.4 * 0.5 + 0.6 * 1 = 0.8; 1; 0.6 * 0.2 = 0.12.
    assert blend_labels(initial, local,
                        0.4).tolist()[0] == pytest.approx([0.8, 1.0, 0.12])
    assert blend_labels(initial, local, 1.0).tolist() == initial.tolist()
    assert blend_labels(initial, local, 0.0).tolist() == local.tolist()
    over = blend_labels(torch.tensor([1.5]), torch.tensor([-0.5]), 0.5)
    assert over.item() == 0.5
    assert blend_labels(torch.tensor([2.0]), torch.tensor([2.0]),
                        0.5).item() == 1.0


@pytest.mark.parametrize('alpha', [0.2, 0.4])
def test_blend_keeps_saturated_labels_exactly_one(alpha):
    bias = torch.tensor([0.5, 0.5])
    initial = debias(torch.tensor([[0.7, 0.1]]), bias)  # [1, 0.2]
    local = debias(torch.tensor([[0.9, 0.6]]), bias)  # [1, 1]
    final = blend_labels(initial, local, alpha)
    assert final[0, 0].item() == 1.0
    assert final[0, 1].item() == pytest.approx(alpha * 0.2 + (1 - alpha))


# One image, 3 snippets, 2 classes. Class 0: max 0.5, min 0.1; class 1: max
# 0.2, min 0.05.
SNIPPETS = torch.tensor([[[0.1, 0.05], [0.5, 0.2], [0.3, 0.1]]])
GLOBAL = torch.tensor([[0.3, 0.15]])


def test_cdul_aggregation_hand_example():
    # zeta 0.3: class 0 keeps its max 0.5, class 1 (0.2 < 0.3) its min 0.05.
    avg = cdul_global_local(GLOBAL, SNIPPETS, zeta=0.3, lam=0.0)
    assert avg.tolist()[0] == pytest.approx([0.4, 0.1])
    mx = cdul_global_local(GLOBAL, SNIPPETS, zeta=0.3, lam=1.0)
    assert mx.tolist()[0] == pytest.approx([0.5, 0.15])
    # 0.5 * (0.3 + 0.5 + 0.5 * 0.2), 0.5 * (0.15 + 0.05 + 0.5 * 0.1)
    half = cdul_global_local(GLOBAL, SNIPPETS, zeta=0.3, lam=0.5)
    assert half.tolist()[0] == pytest.approx([0.45, 0.125])


def test_cdul_zeta_edges():
    # zeta 0: every class takes its max snippet score.
    always_max = cdul_global_local(GLOBAL, SNIPPETS, zeta=0.0, lam=0.0)
    assert always_max.tolist()[0] == pytest.approx([0.4, 0.175])
    # zeta above every score: every class takes its min.
    always_min = cdul_global_local(GLOBAL, SNIPPETS, zeta=0.6, lam=0.0)
    assert always_min.tolist()[0] == pytest.approx([0.2, 0.1])
    # gamma = [alpha >= zeta] is inclusive: zeta 0.5 keeps class 0's max.
    tie = cdul_global_local(GLOBAL, SNIPPETS, zeta=0.5, lam=0.0)
    assert tie.tolist()[0] == pytest.approx([0.4, 0.1])


def test_cdul_lambda_zero_is_mean_and_one_is_max():
    gen = torch.Generator().manual_seed(0)
    global_probs = torch.rand((4, 5), generator=gen)
    snippets = torch.rand((4, 9, 5), generator=gen)
    s_ag = torch.where(
        snippets.amax(1) >= 0.4, snippets.amax(1), snippets.amin(1))
    torch.testing.assert_close(
        cdul_global_local(global_probs, snippets, 0.4, 0.0),
        (global_probs + s_ag) / 2)
    torch.testing.assert_close(
        cdul_global_local(global_probs, snippets, 0.4, 1.0),
        torch.maximum(global_probs, s_ag))


def test_grid_boxes_tile_exactly():
    boxes = grid_boxes((10, 7))  # H 10 -> rows 0,3,6,10; W 7 -> 0,2,4,7
    assert boxes.dtype == torch.long
    assert boxes.tolist() == [
        [0, 0, 2, 3], [2, 0, 4, 3], [4, 0, 7, 3],
        [0, 3, 2, 6], [2, 3, 4, 6], [4, 3, 7, 6],
        [0, 6, 2, 10], [2, 6, 4, 10], [4, 6, 7, 10],
    ]  # yapf: disable
    cover = torch.zeros(10, 7, dtype=torch.long)
    for x1, y1, x2, y2 in boxes.tolist():
        cover[y1:y2, x1:x2] += 1
    assert (cover == 1).all()
    assert grid_boxes((4, 4), grid=2).tolist() == [[0, 0, 2, 2], [2, 0, 4, 2],
                                                   [0, 2, 2, 4], [2, 2, 4, 4]]
    assert grid_boxes((5, 5), grid=1).tolist() == [[0, 0, 5, 5]]


def test_grid_boxes_rejects_tiny_image():
    with pytest.raises(ValueError):
        grid_boxes((2, 10), grid=3)


def test_fuse_global_and_dense_by_hand():
    global_probs = torch.tensor([[0.7, 0.2, 0.1]])
    dense = torch.tensor([[0.6, 0.3, 0.1], [0.1, 0.1, 0.8]]).T.reshape(
        1, 3, 1, 2)  # two locations: (0.6, 0.3, 0.1) and (0.1, 0.1, 0.8)
    fused = fuse_global_and_dense(global_probs, dense)
    # (p_global + max over locations) / 2 = (0.65, 0.25, 0.45), sum 1.35
    expected = torch.tensor([[0.65, 0.25, 0.45]]) / 1.35
    torch.testing.assert_close(fused, expected)
    torch.testing.assert_close(fused.sum(dim=1), torch.ones(1))
