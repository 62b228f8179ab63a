"""The images the teacher and the classifier look at during labeling.

Decoding and resizing run in DataLoader workers (these are plain torch
datasets over image paths), so the main process only runs forwards. Images
are decoded by the training pipeline's decoder
(:class:`~ccd_mm.datasets.image_decoder.ImageDecoder`), so the teacher sees
the pixels the classifier trains on. Views are uint8: a quarter of the bytes
of float pixels to pass from the workers and to copy to the GPU, where the
models normalise them.
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms.functional import pil_to_tensor

from ccd_mm.datasets.image_decoder import ImageDecoder, UndecodableImageError
from ccd_mm.structures import stack_by_shape
from .file_fingerprints import file_fingerprint


def decode_rgb_pixels(decoder: ImageDecoder,
                      path: str) -> Optional[np.ndarray]:
    """``path`` decoded to (H, W, 3) uint8 RGB pixels (resized with PIL's
    antialiasing filters), or None when it cannot be decoded."""
    try:
        return decoder.rgb(path)
    except UndecodableImageError:
        return None


def crop_view_size(width: int, height: int, longer_side: int,
                   size_divisor: int) -> Tuple[int, int]:
    """(width, height) of a crop resized so its longer side is
    ``longer_side`` with the aspect ratio kept (CCD 3.2), the shorter side
    rounded to a multiple of ``size_divisor`` so crops fall into few shapes
    that the teacher can batch."""
    scale = longer_side / max(width, height)
    short = max(
        size_divisor,
        round(min(width, height) * scale / size_divisor) * size_divisor)
    return (longer_side, short) if width >= height else (short, longer_side)


class GlobalViewDataset(Dataset):
    """Every image resized to ``size`` x ``size`` (aspect ratio not kept, as
    in the released script's 640 x 640 view).

    An item is ``(index, view)``, ``view`` a (3, size, size) uint8 tensor,
    or None when the image cannot be decoded, so one bad file is reported
    instead of stopping the run. With ``fingerprints`` it is
    ``(index, view, fingerprint)``: the initial labeling records what each
    file held (:func:`~ccd_mm.labeling.file_fingerprints.file_fingerprint`)
    in the pass that reads it anyway. Batch items with
    :func:`collate_views`.

    Args:
        img_paths (Sequence[str]): image files.
        size (int): side of the square view.
        decoder (ImageDecoder, optional): the training pipeline's decoder
            (``CLIPPseudoLabelDataset.image_decoder``). Defaults to None:
            mmcv's default ``LoadImageFromFile``.
        fingerprints (bool): also give each file's fingerprint. Defaults to
            False.
    """

    def __init__(self,
                 img_paths: Sequence[str],
                 size: int,
                 decoder: Optional[ImageDecoder] = None,
                 fingerprints: bool = False):
        self.img_paths = list(img_paths)
        self.size = size
        self.decoder = decoder or ImageDecoder()
        self.fingerprints = fingerprints

    def __len__(self) -> int:
        return len(self.img_paths)

    def __getitem__(self, index: int) -> tuple:
        path = self.img_paths[index]
        # Read before decoding: the decoder then reads the bytes from the
        # page cache.
        fingerprint = ((file_fingerprint(self.decoder, path), )
                       if self.fingerprints else ())
        pixels = decode_rgb_pixels(self.decoder, path)
        if pixels is None:
            return (index, None) + fingerprint
        view = Image.fromarray(pixels).resize((self.size, self.size),
                                              Image.BICUBIC)
        return (index, pil_to_tensor(view)) + fingerprint


class CropViewDataset(Dataset):
    """The crops of each image around its CAM boxes (CCD 3.2 step 4).

    Boxes are given in the coordinates of the square labeling view and
    mapped back to the original image, so a crop keeps the object's true
    aspect ratio; it is then resized to ``crop_size`` (aspect kept).

    An item is ``(index, crops)``: a list of (3, h, w) uint8 tensors, empty
    when the image has no box, None when it cannot be decoded. Batch items
    with :func:`collate_crops`.

    Args:
        img_paths (Sequence[str]): image files.
        boxes (Sequence[Tensor]): per image, (K, 4) boxes x1, y1, x2, y2
            (exclusive ends) in view coordinates.
        view_size (int): side of the square view the boxes refer to.
        crop_size (int): longer side of a resized crop (paper: 640).
        size_divisor (int): the shorter side is rounded to a multiple of it.
            Defaults to 32.
        decoder (ImageDecoder, optional): see :class:`GlobalViewDataset`.
            Defaults to None.
    """

    def __init__(self,
                 img_paths: Sequence[str],
                 boxes: Sequence[torch.Tensor],
                 view_size: int,
                 crop_size: int,
                 size_divisor: int = 32,
                 decoder: Optional[ImageDecoder] = None):
        if len(img_paths) != len(boxes):
            raise ValueError('one box tensor per image is needed')
        self.img_paths = list(img_paths)
        self.boxes = list(boxes)
        self.view_size = view_size
        self.crop_size = crop_size
        self.size_divisor = size_divisor
        self.decoder = decoder or ImageDecoder()

    def __len__(self) -> int:
        return len(self.img_paths)

    def __getitem__(self,
                    index: int) -> Tuple[int, Optional[List[torch.Tensor]]]:
        boxes = self.boxes[index]
        if len(boxes) == 0:
            return index, []
        pixels = decode_rgb_pixels(self.decoder, self.img_paths[index])
        if pixels is None:
            return index, None
        height, width = pixels.shape[:2]
        scale = torch.tensor([width, height] * 2) / self.view_size
        crops = []
        for x1, y1, x2, y2 in (boxes.float() * scale).round().long().tolist():
            # At least one pixel inside the image, as PIL's crop would pad.
            x1, y1 = min(x1, width - 1), min(y1, height - 1)
            x2, y2 = max(x2, x1 + 1), max(y2, y1 + 1)
            # Sliced, not Image.crop: PIL's crop refuses regions over its
            # MAX_IMAGE_PIXELS, and the decoder's limit (which a config may
            # raise) has already decided that this image is labeled.
            crop = Image.fromarray(pixels[y1:y2, x1:x2])
            crop = crop.resize(
                crop_view_size(crop.width, crop.height, self.crop_size,
                               self.size_divisor), Image.BICUBIC)
            crops.append(pil_to_tensor(crop))
        return index, crops


class ViewBatch(NamedTuple):
    """A batch of :class:`GlobalViewDataset` items.

    Attributes:
        indices (Tensor): (B,) dataset indices.
        decoded (Tensor): (B,) bool, False where the image was undecodable.
        views (Tensor | None): (D, 3, S, S) uint8 views of the D decoded
            images, in batch order; None when D is 0.
        fingerprints (Tensor | None): (B,) int64 file fingerprints, None
            unless the dataset gives them.
    """
    indices: torch.Tensor
    decoded: torch.Tensor
    views: Optional[torch.Tensor]
    fingerprints: Optional[torch.Tensor] = None


class CropBatch(NamedTuple):
    """A batch of :class:`CropViewDataset` items, crops stacked by shape.

    Attributes:
        indices (Tensor): (B,) dataset indices.
        decoded (Tensor): (B,) bool, False where the image was undecodable.
        owner (Tensor): (K,) position in the batch of the image of each of
            the K crops; crops are numbered image by image, box by box.
        box_index (Tensor): (K,) index of each crop's box among its
            image's boxes.
        stacks (list): ``(crop numbers (k,), crops (k, 3, h, w) uint8)`` per
            distinct crop shape, see :func:`stack_by_shape`.
    """
    indices: torch.Tensor
    decoded: torch.Tensor
    owner: torch.Tensor
    box_index: torch.Tensor
    stacks: List[Tuple[torch.Tensor, torch.Tensor]]


def _indices_and_decoded(
        batch: Sequence[tuple]) -> Tuple[torch.Tensor, torch.Tensor]:
    indices = torch.tensor([item[0] for item in batch], dtype=torch.long)
    decoded = torch.tensor([item[1] is not None for item in batch],
                           dtype=torch.bool)
    return indices, decoded


# The collate functions run in the DataLoader workers: a batch crosses to
# the main process as a few stacked tensors rather than one shared-memory
# tensor per view or crop, each of which costs as much as decoding a small
# image.
def collate_views(batch: Sequence[tuple]) -> ViewBatch:
    """Collate ``[(index, view or None[, fingerprint]), ...]`` into a
    :class:`ViewBatch`."""
    indices, decoded = _indices_and_decoded(batch)
    views = [item[1] for item in batch if item[1] is not None]
    fingerprints = (
        torch.tensor([item[2] for item in batch], dtype=torch.long)
        if len(batch[0]) == 3 else None)
    return ViewBatch(indices, decoded,
                     torch.stack(views) if views else None, fingerprints)


def collate_crops(batch: Sequence[tuple]) -> CropBatch:
    """Collate ``[(index, crops or None), ...]`` into a :class:`CropBatch`."""
    indices, decoded = _indices_and_decoded(batch)
    crops = [crop for _, item in batch if item for crop in item]
    owner, box_index = torch.tensor(
        [(position, box) for position, (_, item) in enumerate(batch) if item
         for box in range(len(item))],
        dtype=torch.long).view(-1, 2).unbind(1)
    return CropBatch(indices, decoded, owner, box_index, stack_by_shape(crops))
