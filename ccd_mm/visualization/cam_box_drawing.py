"""The CAM boxes of a label update drawn over their image (CCD 3.2)."""
from typing import Sequence

import numpy as np
from matplotlib import colormaps
from mmengine.visualization import Visualizer
from PIL import Image

from ccd_mm.datasets.image_decoder import ImageDecoder


def class_color(index: int) -> tuple:
    """A fixed RGB (0-255) colour per class, from matplotlib's tab20."""
    rgb = colormaps['tab20'](index % 20)[:3]
    return tuple(int(round(255 * channel)) for channel in rgb)


def draw_cam_boxes(record: dict,
                   class_names: Sequence[str],
                   display_size: int = 512) -> np.ndarray:
    """Draw one image's CAM boxes with class names and the teacher's score
    of each crop for its class.

    Args:
        record (dict): one record of a ``cam_boxes_epoch_{e}.json`` written
            by ``CAMLabelUpdateHook(record_boxes=N)``: ``img_path``,
            ``view_size``, ``boxes`` (x1, y1, x2, y2 on the square view),
            ``classes`` (one per box) and ``crop_scores`` (per box, the
            teacher's probabilities of every class).
        class_names (Sequence[str]): names of the class indices.
        display_size (int): longer side of the drawing; the image is resized
            to it (aspect kept) so labels stay legible on small images.
            Defaults to 512.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB drawing.
    """
    # Decoded as the labeling passes decode (OpenCV, EXIF orientation
    # applied), so the boxes fall where the classifier saw the objects.
    image = Image.fromarray(ImageDecoder().rgb(record['img_path']))
    scale = display_size / max(image.width, image.height)
    width, height = round(image.width * scale), round(image.height * scale)
    image = np.asarray(image.resize((width, height), Image.BICUBIC))
    visualizer = Visualizer(name='ccd_mm_cam_boxes', image=image)
    boxes = np.asarray(record['boxes'], dtype=np.float32).reshape(-1, 4)
    if len(boxes):
        view_size = record['view_size']
        boxes *= np.array([width, height, width, height]) / view_size
        # Exclusive ends may equal the image side; keep every edge visible.
        boxes = boxes.clip(0, [width - 1, height - 1] * 2)
        colors = [class_color(c) for c in record['classes']]
        visualizer.draw_bboxes(
            boxes, edge_colors=colors, line_widths=max(2, display_size // 200))
        texts = [
            f'{class_names[c]} {scores[c]:.2f}'
            for c, scores in zip(record['classes'], record['crop_scores'])
        ]
        visualizer.draw_texts(
            texts,
            boxes[:, :2],
            colors='white',
            font_sizes=max(8, display_size // 40),
            bboxes=[
                dict(
                    facecolor=np.array(color) / 255,
                    alpha=0.8,
                    pad=1,
                    edgecolor='none') for color in colors
            ])
    return visualizer.get_image()
