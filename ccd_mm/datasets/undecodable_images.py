"""The image files of a split that its pipeline's decoder cannot read.

Evaluation splits are decoded in full before a run starts
(``EvalImageCheckHook``): a header-only check would pass a truncated file,
whose header is intact, and the first validation would then crash after
the teacher's pass and an epoch of training.
"""
from typing import List, Optional, Sequence, Tuple

from torch.utils.data import DataLoader, Dataset

from .image_decoder import ImageDecoder


class _DecodeFailures(Dataset):
    """Item ``i``: why ``img_paths[i]`` cannot be decoded, or None."""

    def __init__(self, img_paths: Sequence[str], decoder: ImageDecoder):
        self.img_paths = list(img_paths)
        self.decoder = decoder

    def __len__(self) -> int:
        return len(self.img_paths)

    def __getitem__(self, index: int) -> Optional[str]:
        return self.decoder.failure(self.img_paths[index])


def undecodable_images(img_paths: Sequence[str],
                       decoder: ImageDecoder,
                       num_workers: int = 2) -> List[Tuple[str, str]]:
    """``(path, reason)`` of every image of ``img_paths`` that ``decoder``
    cannot decode, in their order.

    Args:
        img_paths (Sequence[str]): image files.
        decoder (ImageDecoder): the split pipeline's decoder.
        num_workers (int): DataLoader workers that decode. Defaults to 2.
    """
    # Batches of reasons (short strings) cross from the workers, no pixels.
    loader = DataLoader(
        _DecodeFailures(img_paths, decoder),
        batch_size=16,
        num_workers=num_workers,
        collate_fn=list)
    reasons = [reason for batch in loader for reason in batch]
    return [(path, reason) for path, reason in zip(img_paths, reasons)
            if reason is not None]
