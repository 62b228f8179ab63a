import open_clip
import pytest
import torch

from ccd_mm.teachers import resize_positional_embedding
from ccd_mm.teachers.positional_embedding import (native_grid,
                                                  positional_embedding_name,
                                                  token_grid)

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def test_same_grid_returns_the_embedding_itself():
    pos_embed = torch.randn(1 + 4 * 4, 8)
    assert resize_positional_embedding(pos_embed, (4, 4), (4, 4)) is pos_embed


def test_resize_keeps_class_token_and_interpolates_the_grid():
    rows, cols = 2, 3
    # Embedding dim 0 holds the column index, dim 1 the row index.
    cols_index = torch.arange(cols).repeat(rows).float()
    rows_index = torch.arange(rows).repeat_interleave(cols).float()
    grid = torch.stack([cols_index, rows_index], dim=1)
    class_token = torch.tensor([[7.0, -7.0]])
    pos_embed = torch.cat([class_token, grid])

    resized = resize_positional_embedding(pos_embed, (rows, cols), (4, 6))

    assert resized.shape == (1 + 4 * 6, 2)
    assert torch.equal(resized[0], class_token[0])
    resized_grid = resized[1:].view(4, 6, 2)
    # Bilinear, half-pixel centres: a linear ramp stays a (clamped) ramp.
    expected_cols = torch.tensor([0, 0.25, 0.75, 1.25, 1.75, 2])
    torch.testing.assert_close(resized_grid[..., 0],
                               expected_cols.expand(4, 6))
    expected_rows = torch.tensor([0, 0.25, 0.75, 1])
    torch.testing.assert_close(resized_grid[..., 1],
                               expected_rows[:, None].expand(4, 6))


def test_towers_name_their_positional_embedding(tiny_clip_resnet,
                                                tiny_clip_vit):
    resnet = open_clip.create_model(tiny_clip_resnet['model_name']).visual
    vit = open_clip.create_model(tiny_clip_vit['model_name']).visual
    assert positional_embedding_name(resnet) == 'attnpool.positional_embedding'
    assert positional_embedding_name(vit) == 'positional_embedding'
    assert positional_embedding_name(torch.nn.Conv2d(3, 8, 3)) is None
    assert native_grid(resnet) == (2, 2)
    assert native_grid(vit) == (4, 4)
    assert token_grid(vit, 64, 100) == (4, 6)


@pytest.mark.parametrize('size', [(64, 64), (96, 64), (63, 95), (70, 33)])
def test_resnet_token_grid_matches_its_feature_map(tiny_clip_resnet, size):
    resnet = open_clip.create_model(tiny_clip_resnet['model_name']).visual
    with torch.no_grad():
        features = resnet.forward_intermediates(
            torch.zeros(1, 3, *size),
            intermediates_only=True)['image_intermediates'][-1]
    assert token_grid(resnet, *size) == tuple(features.shape[-2:])
