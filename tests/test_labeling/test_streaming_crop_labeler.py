import torch

from ccd_mm.core.aggregate import local_max
from ccd_mm.labeling.streaming_crop_labeler import StreamingCropLabeler
from ccd_mm.structures import stack_by_shape

NUM_CLASSES = 3

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


class SumTeacher(torch.nn.Module):
    """Stand-in teacher: 'probabilities' are fixed functions of the pixels,
    so a crop scores the same in any batch; records every batch size."""
    num_classes = NUM_CLASSES

    def __init__(self, batch_size):
        super().__init__()
        self.batch_size = batch_size
        self.forwards = []

    def forward(self, views):
        self.forwards.append(len(views))
        mean = views.float().mean(dim=(1, 2, 3))
        return torch.stack([mean, mean / 2, 1 - mean], dim=1).sigmoid()


def random_batches(num_batches, crops_per_batch, seed=0):
    """Loader-like batches of crops of 3 shapes with random target rows."""
    generator = torch.Generator().manual_seed(seed)
    shapes = [(3, 4, 8), (3, 8, 4), (3, 8, 8)]
    batches = []
    for _ in range(num_batches):
        crops = [
            torch.rand(
                shapes[int(torch.randint(3, (1, ), generator=generator))],
                generator=generator) for _ in range(crops_per_batch)
        ]
        targets = torch.randint(
            0, 10, (crops_per_batch, ), generator=generator)
        batches.append((targets, crops))
    return batches


def test_rows_are_the_max_over_their_crops_eq5():
    batches = random_batches(num_batches=5, crops_per_batch=7)
    teacher = SumTeacher(batch_size=4)
    labeler = StreamingCropLabeler(teacher, num_rows=12)
    for targets, crops in batches:
        labeler.add(targets, stack_by_shape(crops))
    rows = labeler.finish()
    one_by_one = torch.cat([
        SumTeacher(batch_size=1)(crop[None]) for _, crops in batches
        for crop in crops
    ])
    all_targets = torch.cat([targets for targets, _ in batches])
    expected = local_max(one_by_one, all_targets, 12)
    torch.testing.assert_close(rows, expected, rtol=0, atol=0)
    # Rows 10 and 11 have no crop: zeros, as local_max gives.
    assert torch.equal(rows[10:], torch.zeros(2, NUM_CLASSES))
    assert labeler.num_pending == 0


def test_shapes_wait_for_a_full_batch_across_loader_batches():
    teacher = SumTeacher(batch_size=6)
    labeler = StreamingCropLabeler(teacher, num_rows=4)
    wide = [torch.rand(3, 4, 8) for _ in range(4)]
    for _ in range(3):  # 3 loader batches of 4 crops of one shape
        labeler.add(torch.arange(4), stack_by_shape(wide))
    # Whole batches only: 6 of the first 8 crops, then 6 of the next 6.
    assert teacher.forwards == [6, 6]
    assert labeler.num_pending == 0
    labeler.add(torch.arange(4), stack_by_shape(wide))
    labeler.finish()
    assert teacher.forwards == [6, 6, 4]


def test_pending_crops_are_bounded():
    teacher = SumTeacher(batch_size=100)
    labeler = StreamingCropLabeler(teacher, num_rows=10, max_pending=9)
    for targets, crops in random_batches(num_batches=6, crops_per_batch=5):
        labeler.add(targets, stack_by_shape(crops))
        assert labeler.num_pending <= 9
    labeler.finish()
    assert sum(teacher.forwards) == 30
