"""CDUL's local alignment: the teacher on a fixed grid of snippets (CDUL
3.1.2)."""
from typing import Optional, Sequence

import torch

from ccd_mm.core.aggregate import grid_boxes
from ccd_mm.datasets.image_decoder import ImageDecoder
from .image_views import CropViewDataset, collate_crops
from .sharded_pass import gather_rows, iterate_shard
from .streaming_crop_labeler import StreamingCropLabeler


def label_grid_snippets(
        teacher: torch.nn.Module,
        img_paths: Sequence[str],
        grid: int = 3,
        snippet_size: int = 448,
        batch_size: int = 32,
        num_workers: int = 2,
        size_divisor: int = 32,
        show_progress: bool = False,
        decoder: Optional[ImageDecoder] = None) -> torch.Tensor:
    """Teacher probabilities of every image's ``grid x grid`` snippets.

    Each image is tiled by :func:`~ccd_mm.core.aggregate.grid_boxes`; the
    tiles are cropped from the original image (``CropViewDataset``, the crop
    machinery of the CCD label update), resized so the longer side is
    ``snippet_size`` with the aspect kept, and labeled by the teacher, all
    snippets of equal shape in full batches (``StreamingCropLabeler``).

    Args:
        teacher: ``CLIPTeacher`` (forward, ``batch_size``, ``num_classes``).
        img_paths: the images, in dataset order.
        grid: snippets per side (CDUL 4.1: 3, i.e. 9 snippets).
        snippet_size: longer side of a resized snippet.
        batch_size: images per loader batch; snippets go to the teacher
            in batches of its own ``batch_size``.
        num_workers: DataLoader workers that decode and crop.
        size_divisor: the shorter side is rounded to a multiple of it so
            snippets batch by shape.
        show_progress: progress bar on rank 0.
        decoder: the training pipeline's image decoder; None for mmcv's
            default ``LoadImageFromFile``.

    Returns:
        ``(N, grid * grid, C)`` probabilities, snippets in row-major order;
        zeros for undecodable images. Identical on every rank.
    """
    num_snippets = grid * grid
    num_classes = teacher.num_classes
    # Boxes in the coordinates of a grid-sized "view": CropViewDataset maps
    # them onto each image's own size, so the tiles split the original image.
    boxes = grid_boxes((grid, grid), grid)
    snippets = CropViewDataset(img_paths, [boxes] * len(img_paths), grid,
                               snippet_size, size_divisor, decoder)
    labeler = StreamingCropLabeler(teacher, len(snippets) * num_snippets)
    shard = []
    for batch in iterate_shard(snippets, batch_size, num_workers,
                               collate_crops, show_progress):
        # One row per snippet: image index * grid**2 + snippet number.
        labeler.add(
            batch.indices[batch.owner] * num_snippets + batch.box_index,
            batch.stacks)
        shard.append(batch.indices)
    rows = labeler.finish().view(len(snippets), -1)
    table = gather_rows(shard, [rows[indices] for indices in shard],
                        len(snippets), num_snippets * num_classes)
    return table.reshape(len(snippets), num_snippets, num_classes)
