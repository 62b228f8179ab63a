import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

from ccd_mm.labeling import CropViewDataset, GlobalViewDataset
from ccd_mm.labeling.image_views import collate_crops, collate_views
from ccd_mm.structures import as_unit_range, stack_by_shape

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def write_image(path, width, height, value):
    Image.fromarray(np.full((height, width, 3), value, np.uint8)).save(path)
    return str(path)


def test_global_views_are_uint8_and_undecodable_images_flagged(tmp_path):
    paths = [
        write_image(tmp_path / 'a.png', 40, 20, 10),
        str(tmp_path / 'missing.png'),
        write_image(tmp_path / 'b.png', 20, 40, 200)
    ]
    views = GlobalViewDataset(paths, 32)
    # Two workers and batches of 2: the stacking runs in the workers and
    # survives the trip to the main process.
    batches = list(
        DataLoader(
            views, batch_size=2, num_workers=2, collate_fn=collate_views))
    first, second = batches
    assert first.indices.tolist() == [0, 1]
    assert first.decoded.tolist() == [True, False]
    assert first.views.shape == (1, 3, 32, 32)
    assert first.views.dtype == torch.uint8
    assert torch.all(first.views == 10)
    assert second.decoded.tolist() == [True]
    assert torch.all(second.views == 200)
    nothing = collate_views([(7, None)])
    assert nothing.views is None and nothing.decoded.tolist() == [False]


def test_stack_by_shape_groups_equal_shapes_and_keeps_positions():
    views = [
        torch.full((3, h, w), i)
        for i, (h, w) in enumerate([(2, 4), (4, 2), (2, 4), (2, 2), (4, 2)])
    ]
    stacks = stack_by_shape(views)
    assert [positions.tolist() for positions, _ in stacks] == [[0, 2], [1, 4],
                                                               [3]]
    for positions, stacked in stacks:
        for position, view in zip(positions.tolist(), stacked):
            assert torch.equal(view, views[position])
    assert stack_by_shape([]) == []


def test_collate_crops_numbers_crops_image_by_image(tmp_path):
    wide = write_image(tmp_path / 'wide.png', 64, 32, 50)
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'not an image')
    boxes = [
        torch.tensor([[0, 0, 16, 8], [0, 0, 8, 16], [8, 8, 24, 16]]),
        torch.tensor([[0, 0, 4, 4]]),  # undecodable image
        torch.zeros(0, 4, dtype=torch.long),  # no box
    ]
    crops = CropViewDataset([wide, str(broken), wide], boxes, 32, 16, 8)
    items = [crops[i] for i in range(3)]
    batch = collate_crops(items)
    assert batch.indices.tolist() == [0, 1, 2]
    assert batch.decoded.tolist() == [True, False, True]
    assert batch.owner.tolist() == [0, 0, 0]
    flat = items[0][1]
    assert all(crop.dtype == torch.uint8 for crop in flat)
    # In the 64 x 32 image crops 0 and 2 are 32 x 8 (resized to 16 x 8),
    # crop 1 is 16 x 16.
    assert [p.tolist() for p, _ in batch.stacks] == [[0, 2], [1]]
    for positions, stacked in batch.stacks:
        for position, crop in zip(positions.tolist(), stacked):
            assert torch.equal(crop, flat[position])


def test_as_unit_range_scales_only_uint8():
    pixels = torch.tensor([0, 51, 255], dtype=torch.uint8)
    torch.testing.assert_close(
        as_unit_range(pixels), torch.tensor([0.0, 0.2, 1.0]))
    unit = torch.tensor([0.0, 0.5], dtype=torch.float64)
    result = as_unit_range(unit)
    assert result.dtype == torch.float32
    assert result.tolist() == [0.0, 0.5]


def test_crops_of_an_image_within_the_decoder_limit_are_not_refused_by_pil(
        tmp_path, monkeypatch):
    # The decoder's limit, not PIL's MAX_IMAGE_PIXELS (which Image.crop
    # checks), decides which images are labeled: a config may raise it.
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 50)  # 20 x 20 > 2 x 50
    path = write_image(tmp_path / 'a.png', 20, 20, 70)
    # 19 x 20 pixels: PIL copies a crop of the whole image unchecked.
    crops = CropViewDataset([path], [torch.tensor([[0, 0, 30, 32]])],
                            view_size=32,
                            crop_size=16,
                            size_divisor=8)
    index, (crop, ) = crops[0]
    assert index == 0 and crop.shape == (3, 16, 16)
    assert torch.all(crop == 70)
