"""A fingerprint of each image file's bytes, to tell whether a saved label
table was made from the files a run reads now.

Relative paths alone cannot tell: two ShapesML splits of other seeds, or a
data folder refilled with other images, have the same file names. The
initial labeling computes the fingerprints in its decode pass
(:class:`~ccd_mm.labeling.image_views.GlobalViewDataset`), the table keeps
them, and a resumed run reads every file again (:func:`file_fingerprints`:
reading bytes costs far less than decoding them) to compare.
"""
import hashlib
from typing import NamedTuple, Optional, Sequence, Tuple

import torch
from torch.utils.data import Dataset

from ccd_mm.datasets.image_decoder import ImageDecoder
from .sharded_pass import gather_rows, iterate_shard

# The fingerprint of a file that cannot be read (missing, no permission).
UNREADABLE_FILE = 0


def file_fingerprint(decoder: ImageDecoder, path: str) -> int:
    """A 64-bit BLAKE2b digest of the bytes ``decoder`` reads from ``path``
    (as a signed int64), or ``UNREADABLE_FILE``."""
    try:
        data = decoder.file_bytes(path)
    # Every storage backend raises its own errors; the decode pass treats
    # such a file as undecodable, this pass as unreadable.
    except Exception:
        return UNREADABLE_FILE
    return int.from_bytes(
        hashlib.blake2b(data, digest_size=8).digest(), 'little', signed=True)


class FingerprintDataset(Dataset):
    """An item is ``(index, fingerprint)`` of one image file; batch items
    with :func:`collate_fingerprints`.

    Args:
        img_paths (Sequence[str]): image files.
        decoder (ImageDecoder, optional): reads the files as the training
            pipeline does. Defaults to None: mmcv's ``LoadImageFromFile``.
    """

    def __init__(self,
                 img_paths: Sequence[str],
                 decoder: Optional[ImageDecoder] = None):
        self.img_paths = list(img_paths)
        self.decoder = decoder or ImageDecoder()

    def __len__(self) -> int:
        return len(self.img_paths)

    def __getitem__(self, index: int) -> Tuple[int, int]:
        return index, file_fingerprint(self.decoder, self.img_paths[index])


class FingerprintBatch(NamedTuple):
    """A batch of :class:`FingerprintDataset` items.

    Attributes:
        indices (Tensor): (B,) dataset indices.
        fingerprints (Tensor): (B,) int64.
    """
    indices: torch.Tensor
    fingerprints: torch.Tensor


def collate_fingerprints(batch: Sequence[tuple]) -> FingerprintBatch:
    """Collate ``[(index, fingerprint), ...]``."""
    indices, fingerprints = zip(*batch)
    return FingerprintBatch(
        torch.tensor(indices, dtype=torch.long),
        torch.tensor(fingerprints, dtype=torch.long))


def file_fingerprints(img_paths: Sequence[str],
                      decoder: Optional[ImageDecoder] = None,
                      batch_size: int = 64,
                      num_workers: int = 2) -> torch.Tensor:
    """The (N,) int64 fingerprints of ``img_paths``
    (:func:`file_fingerprint`), read by DataLoader workers; identical on
    every rank when distributed."""
    index_parts, row_parts = [], []
    for batch in iterate_shard(
            FingerprintDataset(img_paths, decoder), batch_size, num_workers,
            collate_fingerprints):
        index_parts.append(batch.indices)
        row_parts.append(batch.fingerprints[:, None])
    return gather_rows(
        index_parts, row_parts, len(img_paths), 1, dtype=torch.long)[:, 0]
