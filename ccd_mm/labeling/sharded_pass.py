"""Run a per-image computation over this rank's share of the images and
give every rank the full result.

Images are split by ``range(rank, N, world_size)``; each rank labels its
share with DataLoader workers doing the decoding, and the rows are gathered
with :func:`mmengine.dist.all_gather_object`, so every rank ends with the
identical (N, C) table.
"""
from typing import Callable, Iterator, List, Sequence, TypeVar

import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader, Dataset, Subset

Batch = TypeVar('Batch')


def check_pass_arguments(num_workers: int, **sizes: int) -> None:
    """Refuse settings that would fail a labeling pass only once it runs:
    a size (of views, crops, batches) below 1, a negative number of
    workers. Hooks call it from ``__init__``, so a config is checked when
    the runner builds it.

    Raises:
        ValueError: naming the argument.
    """
    if num_workers < 0:
        raise ValueError(f'num_workers must be >= 0, got {num_workers}')
    for name, value in sizes.items():
        if value < 1:
            raise ValueError(f'{name} must be >= 1, got {value}')


def iterate_shard(views: Dataset,
                  batch_size: int,
                  num_workers: int,
                  collate_fn: Callable[[Sequence[tuple]], Batch],
                  show_progress: bool = False) -> Iterator[Batch]:
    """Yield the batches of this rank's share of ``views``, collated in the
    workers by ``collate_fn`` (e.g. ``collate_views``); a batch must have
    an ``indices`` attribute (its dataset indices)."""
    rank, world_size = get_dist_info()
    shard = Subset(views, range(rank, len(views), world_size))
    loader = DataLoader(
        shard,
        batch_size=batch_size,
        num_workers=num_workers,
        collate_fn=collate_fn)
    progress = ProgressBar(len(shard)) if show_progress and rank == 0 \
        else None
    for batch in loader:
        yield batch
        if progress is not None:
            for _ in range(len(batch.indices)):
                progress.update()
    if progress is not None:
        progress.file.write('\n')


def gather_rows(indices: List[torch.Tensor],
                rows: List[torch.Tensor],
                num_images: int,
                num_columns: int,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Assemble the (N, num_columns) table of ``dtype`` from every rank's
    ``(indices, rows)`` pieces; identical on all ranks. Integer rows (file
    fingerprints) need ``torch.long``: float32 holds 24 bits exactly."""
    if not indices:  # no image in this rank's share
        indices = [torch.zeros(0, dtype=torch.long)]
        rows = [torch.zeros(0, num_columns, dtype=dtype)]
    local = (torch.cat(indices), torch.cat(rows))
    table = torch.zeros(num_images, num_columns, dtype=dtype)
    for part_indices, part_rows in all_gather_object(local):
        table[part_indices] = part_rows.to(dtype)
    return table
