"""Image files decoded as the training pipeline decodes them.

The teacher labels the pixels the classifier trains on only if both come
from one decoder. PIL and OpenCV disagree on many files: a 16-bit grayscale
PNG (PIL clips it to white, OpenCV keeps ``value >> 8``), a JPEG with an
EXIF orientation (OpenCV rotates it, PIL does not), files only one of them
reads. Every labeling pass therefore decodes with the training pipeline's
own ``LoadImageFromFile`` (its library, flags, colour and orientation
handling and ``backend_args``), and an image the teacher skips is one that
training could not load either.
"""
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio


class UndecodableImageError(OSError):
    """An image file that the decoder cannot turn into 8-bit colour pixels;
    the message names the file."""


class ImageDecoder:
    """Decodes image files exactly as a ``LoadImageFromFile`` transform does.

    Args:
        load_image (LoadImageFromFile, optional): the transform to decode
            with, usually the one of the training pipeline
            (:meth:`from_pipeline`). Defaults to None: mmcv's defaults
            (OpenCV, ``color_type='color'``, local files).
    """

    def __init__(self, load_image: Optional[LoadImageFromFile] = None):
        self.load_image = load_image or LoadImageFromFile()

    @classmethod
    def from_pipeline(cls, pipeline: Sequence) -> 'ImageDecoder':
        """The decoder of a pipeline (a ``Compose`` or a list of
        transforms): its first ``LoadImageFromFile``, else mmcv's
        defaults."""
        for transform in getattr(pipeline, 'transforms', pipeline):
            if isinstance(transform, LoadImageFromFile):
                return cls(transform)
        return cls()

    def bgr(self, path: str) -> np.ndarray:
        """The pixels of ``path`` as the pipeline's ``img``: (H, W, 3) uint8
        in BGR order.

        Raises:
            UndecodableImageError: for every way decoding can fail (missing,
                empty or truncated file, a format the backend does not read,
                an image over the backend's pixel limit) and for pixels that
                are not 8-bit colour.
        """
        try:
            results = self.load_image(dict(img_path=path))
        except Exception as error:
            raise UndecodableImageError(
                f'cannot decode {path}: {type(error).__name__}: {error}'
            ) from error
        if results is None:  # ignore_empty=True and no file
            raise UndecodableImageError(f'cannot decode {path}: no file')
        image = results['img']
        if image.ndim == 2:  # color_type='grayscale'
            image = np.repeat(image[..., None], 3, axis=2)
        # to_float32 holds the integer values of the 8-bit decoding.
        if image.shape[2] != 3 or image.dtype not in (np.uint8, np.float32):
            raise UndecodableImageError(
                f'{path} decodes to {image.dtype} pixels with '
                f'{image.shape[2]} channels; the teacher needs 8-bit colour '
                "(LoadImageFromFile's color_type='color')")
        return image.astype(np.uint8, copy=False)

    def file_bytes(self, path: str) -> bytes:
        """The bytes of ``path`` as the transform reads them before
        decoding (its ``backend_args`` or ``file_client_args``).

        Raises:
            Exception: whatever the storage backend raises for a file it
                cannot read (``FileNotFoundError`` for a local file).
        """
        load_image = self.load_image
        if load_image.file_client_args is not None:
            return fileio.FileClient.infer_client(load_image.file_client_args,
                                                  path).get(path)
        return fileio.get(path, backend_args=load_image.backend_args)

    def rgb(self, path: str) -> np.ndarray:
        """The same pixels as :meth:`bgr` in RGB order, as the teacher
        takes them: (H, W, 3) uint8."""
        return np.ascontiguousarray(self.bgr(path)[..., ::-1])

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.load_image!r})'
