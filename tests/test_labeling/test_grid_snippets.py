import numpy as np
import pytest
import torch
from PIL import Image

from ccd_mm.labeling import label_grid_snippets


class ChannelMeanTeacher(torch.nn.Module):
    """Stand-in teacher: the 'probabilities' of a view are its mean red and
    green values in [0, 1]; records the shape of every view and every
    call."""
    num_classes = 2

    def __init__(self):
        super().__init__()
        self.calls = []

    def label_stacks(self, stacks, num_views):
        self.calls.append(
            [tuple(view.shape) for _, views in stacks for view in views])
        probs = torch.zeros(num_views, self.num_classes)
        for positions, views in stacks:
            probs[positions] = views[:, :2].float().mean(dim=(2, 3)) / 255
        return probs


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
    torch.testing.assert_close(scores[0], expected, atol=1e-3, rtol=0)
    torch.testing.assert_close(scores[2], expected, atol=1e-3, rtol=0)
    assert torch.equal(scores[1], torch.zeros(9, 2))  # undecodable
    # One teacher call per batch of images, all their snippets at once;
    # snippets keep the aspect of their cell (32 x 16 wide, 16 x 32 tall).
    assert [len(call) for call in teacher.calls] == [9, 9]
    assert set(teacher.calls[0]) == {(3, 16, 32)}
    assert set(teacher.calls[1]) == {(3, 32, 16)}


def test_grid_of_one_is_the_whole_image(tmp_path):
    path = tmp_path / 'wide.png'
    write_grid_image(path, 96, 48)
    scores = label_grid_snippets(
        ChannelMeanTeacher(), [str(path)],
        grid=1,
        snippet_size=48,
        num_workers=0)
    assert scores.shape == (1, 1, 2)
    # the mean over all nine cells
    assert scores[0, 0].tolist() == pytest.approx([40 / 255, 40 / 255],
                                                  abs=1e-3)
