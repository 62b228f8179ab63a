"""Image files decoded as the training pipeline decodes them.

The teacher labels the pixels the classifier trains on only if both come
from one decoder. PIL and OpenCV disagree on many files: a 16-bit grayscale
PNG (PIL clips it to white, OpenCV keeps ``value >> 8``), a JPEG with an
EXIF orientation (OpenCV rotates it, PIL does not), files only one of them
reads. Every labeling pass therefore decodes with the training pipeline's
own ``LoadImageFromFile`` (its library, flags, colour and orientation
handling and ``backend_args``), and an image the teacher skips is one that
training could not load either.

Before decoding, the pixel count declared in the file's header is checked
against a limit: a one-colour PNG of 30000 x 30000 pixels is a few MB on
disk and 2.7 GB of pixels, decoded several times over by the labeling
workers.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmengine.fileio import get_local_path
from PIL import Image

# PIL's own default ``Image.MAX_IMAGE_PIXELS`` (about 0.27 GB of 8-bit RGB
# per decoded copy): far above any dataset's photos, far below a bomb.
DEFAULT_MAX_PIXELS = 89_478_485


class UndecodableImageError(OSError):
    """An image file that the decoder cannot turn into 8-bit colour pixels.

    Args:
        path (str): the file.
        reason (str): why, in a few words, on one line (runs of white
            space become one space); the message is
            ``cannot decode {path}: {reason}``.
    """

    def __init__(self, path: str, reason: str):
        # One line: OpenCV's messages end in a newline, and the list of
        # skipped images holds one image a line.
        reason = ' '.join(reason.split())
        super().__init__(f'cannot decode {path}: {reason}')
        self.path = path
        self.reason = reason


def declared_size(path: str,
                  backend_args: Optional[dict]) -> Optional[Tuple[int, int]]:
    """(width, height) that the header of ``path`` declares, read by PIL
    without decoding the pixels; None when PIL cannot read the header (a
    missing, empty or truncated file, or a format only OpenCV reads), which
    is then left to the decoder."""
    # Image.open refuses an image over twice PIL's MAX_IMAGE_PIXELS before
    # it says its size; the decoder's own limit replaces PIL's here, so PIL's
    # check is off while the header is read (no pixel is decoded).
    pil_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with get_local_path(path, backend_args=backend_args) as local, \
                Image.open(local) as image:
            return image.size
    except Exception:
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = pil_limit


class ImageDecoder:
    """Decodes image files exactly as a ``LoadImageFromFile`` transform does.

    Args:
        load_image (LoadImageFromFile, optional): the transform to decode
            with, usually the one of the training pipeline
            (:meth:`from_pipeline`). Defaults to None: mmcv's defaults
            (OpenCV, ``color_type='color'``, local files).
        max_pixels (int): images whose header declares more pixels
            (width x height) are refused without being decoded. Defaults to
            ``DEFAULT_MAX_PIXELS`` (89,478,485, PIL's default limit). Files
            whose header PIL cannot read are decoded unchecked: OpenCV's own
            ``CV_IO_MAX_IMAGE_PIXELS`` (2**30 by default) bounds them.
    """

    def __init__(self,
                 load_image: Optional[LoadImageFromFile] = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS):
        if max_pixels < 1:
            raise ValueError(f'max_pixels must be >= 1, got {max_pixels}')
        self.load_image = load_image or LoadImageFromFile()
        self.max_pixels = max_pixels

    @classmethod
    def from_pipeline(cls,
                      pipeline: Sequence,
                      max_pixels: int = DEFAULT_MAX_PIXELS) -> 'ImageDecoder':
        """The decoder of a pipeline (a ``Compose`` or a list of
        transforms): its first ``LoadImageFromFile``, else mmcv's
        defaults; ``max_pixels`` as in :class:`ImageDecoder`."""
        for transform in getattr(pipeline, 'transforms', pipeline):
            if isinstance(transform, LoadImageFromFile):
                return cls(transform, max_pixels)
        return cls(max_pixels=max_pixels)

    def check_pixel_count(self, path: str) -> None:
        """Refuse ``path`` if its header declares more than ``max_pixels``
        pixels.

        Raises:
            UndecodableImageError: naming the size, the limit and how to
                raise it.
        """
        size = declared_size(path,
                             getattr(self.load_image, 'backend_args', None))
        if size is None or size[0] * size[1] <= self.max_pixels:
            return
        width, height = size
        raise UndecodableImageError(
            path, f'{width} x {height} = {width * height} pixels, over the '
            f'limit of {self.max_pixels} (not decoded); if the image is '
            'meant to be labeled, raise max_image_pixels of '
            'CLIPPseudoLabelDataset (EvalImageCheckHook for evaluation '
            'splits)')

    def bgr(self, path: str) -> np.ndarray:
        """The pixels of ``path`` as the pipeline's ``img``: (H, W, 3) uint8
        in BGR order.

        Raises:
            UndecodableImageError: for every way decoding can fail (missing,
                empty or truncated file, a format the backend does not read,
                an image over ``max_pixels`` or the backend's pixel limit)
                and for pixels that are not 8-bit colour.
        """
        self.check_pixel_count(path)
        try:
            results = self.load_image(dict(img_path=path))
        except Exception as error:
            raise UndecodableImageError(
                path, f'{type(error).__name__}: {error}') from error
        if results is None:  # ignore_empty=True and no file
            raise UndecodableImageError(path, 'no file')
        image = results['img']
        if image.ndim == 2:  # color_type='grayscale'
            image = np.repeat(image[..., None], 3, axis=2)
        # to_float32 holds the integer values of the 8-bit decoding.
        if image.shape[2] != 3 or image.dtype not in (np.uint8, np.float32):
            raise UndecodableImageError(
                path, f'it decodes to {image.dtype} pixels with '
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

    def failure(self, path: str) -> Optional[str]:
        """Why ``path`` cannot be decoded (the ``reason`` of the
        :class:`UndecodableImageError` that :meth:`bgr` raises), or None
        when it decodes."""
        try:
            self.bgr(path)
        except UndecodableImageError as error:
            return error.reason
        return None

    def rgb(self, path: str) -> np.ndarray:
        """The same pixels as :meth:`bgr` in RGB order, as the teacher
        takes them: (H, W, 3) uint8."""
        return np.ascontiguousarray(self.bgr(path)[..., ::-1])

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self.load_image!r}, '
                f'max_pixels={self.max_pixels})')
