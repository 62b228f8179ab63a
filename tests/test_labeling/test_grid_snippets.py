import numpy as np
import pytest
import torch
from PIL import Image

from ccd_mm.labeling import label_grid_snippets

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


class ChannelMeanTeacher(torch.nn.Module):
    """Stand-in teacher: the 'probabilities' of a view are its mean red and
    green values in [0, 1]; records the shape of every forward."""
    num_classes = 2
    batch_size = 32

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, views):
        self.calls.append(tuple(views.shape))
        return views[:, :2].float().mean(dim=(2, 3)) / 255


def write_grid_image(path, width, height):
    """A 3 x 3 grid of flat cells: red = 20 * (row + 1), green = 20 *
    (column + 1)."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    for row in range(3):
        for col in range(3):
            pixels[row * height // 3:(row + 1) * height // 3,
                   col * width // 3:(col + 1) * width // 3] = (20 * (row + 1),
                                                               20 * (col + 1),
                                                               0)
    Image.fromarray(pixels).save(path)


def test_snippets_tile_the_original_image_row_major(tmp_path):
    wide, tall = tmp_path / 'wide.png', tmp_path / 'tall.png'
    write_grid_image(wide, 96, 48)
    write_grid_image(tall, 30, 60)
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'not an image')
    teacher = ChannelMeanTeacher()
    scores = label_grid_snippets(
        teacher, [str(wide), str(broken), str(tall)],
        grid=3,
        snippet_size=32,
        batch_size=2,
        num_workers=0,
        size_divisor=16)
    assert scores.shape == (3, 9, 2)
    expected = torch.tensor([[20 * (r + 1), 20 * (c + 1)] for r in range(3)
                             for c in range(3)]) / 255
    # A snippet is one flat cell resized: its mean is the cell's value up to
    # float32 rounding. One column of a neighbour cell (20 uint8 steps off)
    # would move it by 20 / 255 / 32 = 2.5e-3: 1e-3 catches that.
    torch.testing.assert_close(scores[0], expected, atol=1e-3, rtol=0)
    torch.testing.assert_close(scores[2], expected, atol=1e-3, rtol=0)
    assert torch.equal(scores[1], torch.zeros(9, 2))  # undecodable
    # Snippets keep the aspect of their cell (32 x 16 wide, 16 x 32 tall);
    # each shape goes to the teacher as one batch, across loader batches.
    assert teacher.calls == [(9, 3, 16, 32), (9, 3, 32, 16)]


def test_grid_of_one_is_the_whole_image(tmp_path):
    path = tmp_path / 'wide.png'
    write_grid_image(path, 96, 48)
    scores = label_grid_snippets(
        ChannelMeanTeacher(), [str(path)],
        grid=1,
        snippet_size=48,
        num_workers=0)
    assert scores.shape == (1, 1, 2)
    # the mean over all nine cells; resampling blurs the cells' borders
    # symmetrically, so the mean stays within 1e-3 (a quarter of a uint8
    # step), and a cell lost at an edge would move it by 2e-2
    assert scores[0, 0].tolist() == pytest.approx([40 / 255, 40 / 255],
                                                  abs=1e-3)
