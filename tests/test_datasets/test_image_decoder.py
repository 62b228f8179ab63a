"""The labeling passes decode with the training pipeline's LoadImageFromFile:
the teacher's view is the classifier's pixels, file by file, and a file one
of them cannot read is one the other cannot read either."""
import struct
import zlib

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.fileio import BaseStorageBackend, register_backend
from mmpretrain.registry import TRANSFORMS
from PIL import Image

from ccd_mm.datasets import CLIPPseudoLabelDataset
from ccd_mm.datasets.image_decoder import ImageDecoder, UndecodableImageError
from ccd_mm.datasets.shapesml_generator import generate_shapesml
from ccd_mm.labeling import GlobalViewDataset

GRAY16 = 3000  # 16-bit: OpenCV keeps 3000 >> 8 = 11, PIL clips to 255


def gray16_png(path):
    Image.fromarray(np.full((6, 10), GRAY16, np.uint16)).save(path)
    return str(path)


def exif_rotated_jpeg(path):
    """16 x 8 stored (left black, right white), EXIF orientation 6: shown
    rotated 90 degrees clockwise, 8 x 16 with the black half on top."""
    stored = np.zeros((8, 16, 3), np.uint8)
    stored[:, 8:] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(path, exif=exif, quality=100)
    return str(path)


def palette_png(path):
    image = Image.fromarray(np.full((6, 10), 1, np.uint8), 'P')
    image.putpalette([0, 0, 0, 30, 160, 90] + [0] * 762)
    image.save(path)
    return str(path)


def rgba_png(path):
    rgba = np.zeros((6, 10, 4), np.uint8)
    rgba[..., :3] = (200, 50, 10)
    rgba[:3, :, 3] = 255  # bottom half fully transparent
    Image.fromarray(rgba, 'RGBA').save(path)
    return str(path)


def tga_named_jpg(path):
    """TGA data that PIL reads and OpenCV does not."""
    Image.fromarray(np.full((8, 8, 3), 50, np.uint8)).save(path, format='TGA')
    return str(path)


PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]


def build(pipeline):
    return Compose([TRANSFORMS.build(transform) for transform in pipeline])


def classifier_pixels(path, pipeline=PIPELINE):
    """(H, W, 3) RGB uint8 of what the training pipeline feeds the model."""
    packed = build(pipeline)(dict(img_path=path))
    return packed['inputs'].permute(1, 2, 0).numpy()[..., ::-1]


@pytest.mark.parametrize(
    'make, expected_rgb',
    [
        (gray16_png, (GRAY16 >> 8, ) * 3),
        (palette_png, (30, 160, 90)),
        (rgba_png, (200, 50, 10)),  # alpha dropped, colour kept
    ])
def test_teacher_view_is_the_classifier_pixels(tmp_path, make, expected_rgb):
    path = make(tmp_path / f'{make.__name__}.png')
    decoder = ImageDecoder.from_pipeline(build(PIPELINE))
    teacher = decoder.rgb(path)
    assert teacher.dtype == np.uint8 and teacher.shape == (6, 10, 3)
    np.testing.assert_array_equal(teacher, classifier_pixels(path))
    assert np.all(teacher == expected_rgb)
    # The square view the teacher labels is made of those pixels.
    _, view = GlobalViewDataset([path], 8, decoder)[0]
    assert torch.all(view == torch.tensor(expected_rgb)[:, None, None])


def test_exif_orientation_is_applied_as_in_training(tmp_path):
    path = exif_rotated_jpeg(tmp_path / 'rotated.jpg')
    teacher = ImageDecoder().rgb(path)
    np.testing.assert_array_equal(teacher, classifier_pixels(path))
    assert teacher.shape == (16, 8, 3)
    _, view = GlobalViewDataset([path], 16)[0]
    assert view[:, :6].max() < 10 and view[:, 10:].min() > 245


def test_pseudo_label_dataset_decodes_with_its_pipeline(tmp_path):
    generate_shapesml(
        str(tmp_path), seed=0, num_train=2, num_test=12, image_size=32)
    load = dict(type='LoadImageFromFile', color_type='grayscale')
    dataset = CLIPPseudoLabelDataset(
        dataset=dict(
            type='ShapesML',
            data_root=str(tmp_path),
            split='train',
            pipeline=[load, dict(type='PackInputs')]))
    decoder = dataset.image_decoder
    assert decoder.load_image is dataset.pipeline.transforms[0]
    path = dataset.image_paths()[0]
    gray = decoder.rgb(path)
    assert gray.shape == (32, 32, 3)
    assert np.array_equal(gray[..., 0], gray[..., 2])
    np.testing.assert_array_equal(gray[..., 0],
                                  build([load])(dict(img_path=path))['img'])


class MemoryBackend(BaseStorageBackend):
    """Image bytes kept in a dict: files no local reader finds."""
    files = {}

    def get(self, filepath):
        return self.files[filepath]

    def get_text(self, filepath, encoding='utf-8'):
        return self.files[filepath].decode(encoding)


def test_backend_args_are_honoured(tmp_path):
    register_backend('ccd_test_memory', MemoryBackend, force=True)
    path = palette_png(tmp_path / 'palette.png')
    MemoryBackend.files['memory/palette.png'] = open(path, 'rb').read()
    pipeline = [
        dict(
            type='LoadImageFromFile',
            backend_args=dict(backend='ccd_test_memory')),
        dict(type='PackInputs')
    ]
    decoder = ImageDecoder.from_pipeline(build(pipeline))
    np.testing.assert_array_equal(
        decoder.rgb('memory/palette.png'),
        classifier_pixels('memory/palette.png', pipeline))
    with pytest.raises(UndecodableImageError):
        ImageDecoder().rgb('memory/palette.png')  # no such local file


def test_file_only_pil_reads_is_skipped_as_training_fails(tmp_path):
    path = tga_named_jpg(tmp_path / 'tga.jpg')
    assert Image.open(path).size == (8, 8)
    with pytest.raises(AssertionError, match='failed to load image'):
        classifier_pixels(path)
    with pytest.raises(UndecodableImageError, match=path):
        ImageDecoder().rgb(path)
    assert GlobalViewDataset([path], 8)[0] == (0, None)


@pytest.mark.parametrize('content', [b'', b'not an image' * 4, None])
def test_every_decode_failure_names_the_file(tmp_path, content):
    path = tmp_path / 'bad.png'
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UndecodableImageError, match=str(path)):
        ImageDecoder().rgb(str(path))


def test_pillow_decompression_bomb_is_a_decode_failure(tmp_path, monkeypatch):
    # An image over twice PIL's pixel limit raises DecompressionBombError,
    # which is no OSError.
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 20)  # 6 x 10 > 2 x 20
    path = gray16_png(tmp_path / 'bomb.png')
    pipeline = [dict(type='LoadImageFromFile', imdecode_backend='pillow')]
    decoder = ImageDecoder.from_pipeline(build(pipeline))
    with pytest.raises(UndecodableImageError, match='DecompressionBomb'):
        decoder.rgb(path)
    assert GlobalViewDataset([path], 8, decoder)[0] == (0, None)


def test_opencv_pixel_limit_is_a_decode_failure(tmp_path, monkeypatch):
    # What OpenCV 5 raises for an image over OPENCV_IO_MAX_IMAGE_PIXELS (a
    # limit it reads once, when loaded).
    def over_limit(buffer, flags):
        raise cv2.error('(-215:Assertion failed) pixels <= '
                        "CV_IO_MAX_IMAGE_PIXELS in function "
                        "'validateInputImageSize'")

    monkeypatch.setattr(cv2, 'imdecode', over_limit)
    path = gray16_png(tmp_path / 'bomb.png')
    with pytest.raises(UndecodableImageError, match='CV_IO_MAX_IMAGE_PIXELS'):
        ImageDecoder().rgb(path)
    assert GlobalViewDataset([path], 8)[0] == (0, None)


def refuse_decoding(decoder, monkeypatch):
    """Make any decode through ``decoder`` fail the test."""
    monkeypatch.setattr(decoder.load_image, 'transform',
                        lambda results: pytest.fail('the image was decoded'))


def test_image_over_the_pixel_limit_is_refused_before_decoding(
        tmp_path, monkeypatch):
    path = str(tmp_path / 'large.png')
    Image.new('RGB', (300, 200), (9, 9, 9)).save(path)
    decoder = ImageDecoder(max_pixels=10_000)
    refuse_decoding(decoder, monkeypatch)
    with pytest.raises(
            UndecodableImageError,
            match=rf'{path}: 300 x 200 = 60000 pixels, over the limit of '
            r'10000 .*max_image_pixels'):
        decoder.rgb(path)
    assert GlobalViewDataset([path], 8, decoder)[0] == (0, None)


def png_header(path, width, height):
    """A PNG that declares ``width`` x ``height`` RGB pixels and holds one
    row of them: a file of a few bytes with the header of a huge image."""

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data)))

    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    row = zlib.compress(b'\0' + b'\0' * 3 * width)
    with open(path, 'wb') as file:
        file.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) +
                   chunk(b'IDAT', row) + chunk(b'IEND', b''))
    return str(path)


def test_default_limit_refuses_a_20000_pixel_square_unread(
        tmp_path, monkeypatch):
    path = png_header(tmp_path / 'bomb.png', 20000, 20000)
    decoder = ImageDecoder()
    refuse_decoding(decoder, monkeypatch)
    with pytest.raises(
            UndecodableImageError,
            match='400000000 pixels, over the limit of 89478485'):
        decoder.rgb(path)


def test_pseudo_label_dataset_passes_its_pixel_limit_to_the_decoder(tmp_path):
    generate_shapesml(
        str(tmp_path), seed=0, num_train=2, num_test=12, image_size=32)
    dataset = CLIPPseudoLabelDataset(
        dict(type='ShapesML', data_root=str(tmp_path), pipeline=PIPELINE),
        max_image_pixels=123)
    assert dataset.image_decoder.max_pixels == 123
