from typing import List

import numpy as np
from mmengine.fileio import join_path
from mmpretrain.datasets import MultiLabelDataset
from mmpretrain.registry import DATASETS

from .annotation_json import check_record_keys, load_annotation_json
from .image_files import drop_missing_images
from .shapesml_generator import SHAPESML_CLASSES, SHAPESML_VERSION


@DATASETS.register_module()
class ShapesML(MultiLabelDataset):
    """ShapesML: the generated multi-label world of the demo and the tests.

    Written by ``tools/dataset_converters/make_shapesml.py`` (see
    :func:`ccd_mm.datasets.shapesml_generator.generate_shapesml`); each image
    holds 1-4 vivid shapes of distinct classes, one usually large and the
    others small, on a cluttered grey background. The layout is: ::

        ShapesML
        ├── images
        │   ├── train
        │   │   ├── 000000.png
        │   │   └── ...
        │   └── test
        │       ├── 000000.png
        │       └── ...
        ├── annotations
        │   ├── train.json
        │   └── test.json
        └── meta.json

    Each annotation file is ``{"classes": [...], "images": [{"file_name":
    "train/000000.png", "height": H, "width": W, "objects": [{"label": 3,
    "bbox": [x1, y1, x2, y2]}, ...]}, ...]}`` with pixel boxes, x2/y2
    exclusive.

    Args:
        data_root (str): The root directory of the layout above.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        ann_file (str): Annotation file relative to ``data_root``. Defaults
            to ``''``, meaning ``annotations/{split}.json``.
        data_prefix (str | dict): Image directory relative to ``data_root``
            (``file_name`` is relative to it). Defaults to ``'images'``.
        test_mode (bool): ``test_mode=True`` means in test phase. Defaults
            to False.
        pipeline (Sequence): Processing pipeline. Defaults to ``()``.
        **kwargs: Other keyword arguments of :class:`MultiLabelDataset`.

    Notes:
        Each data info also keeps the image's ``width`` and ``height`` and
        ``gt_bboxes`` (float32 array (K, 4), one
        row per object, ordered as ``gt_bboxes_labels``) for pseudo-label
        quality reports and box oracles only: ``PackInputs`` drops them, so
        they never reach training. ``gt_label`` is the sorted list of
        distinct classes present. Entries whose image file is missing are
        dropped with a warning that gives their count (an error if none
        exists). An annotation file that is not valid JSON, lacks a key, or
        has an object label that is no class index is a ``ValueError`` at
        construction naming the file, the record and the value.
    """

    METAINFO = {'classes': SHAPESML_CLASSES}

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_file: str = '',
                 data_prefix='images',
                 test_mode: bool = False,
                 pipeline=(),
                 **kwargs):
        splits = ('train', 'test')
        if split not in splits:
            raise ValueError(f'split must be one of {splits}, got {split!r}')
        self.split = split
        super().__init__(
            ann_file=ann_file or f'annotations/{split}.json',
            data_root=data_root,
            data_prefix=data_prefix,
            test_mode=test_mode,
            pipeline=pipeline,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the annotation file into data infos with labels and boxes."""
        annotations = load_annotation_json(self.ann_file,
                                           ('classes', 'images'),
                                           'a ShapesML annotation file')
        if tuple(annotations['classes']) != tuple(self.CLASSES):
            raise ValueError(
                f'{self.ann_file} lists classes {annotations["classes"]}, '
                f'but the dataset uses {list(self.CLASSES)} (ShapesML '
                f'{SHAPESML_VERSION}): write the split again with '
                f'tools/dataset_converters/make_shapesml.py')
        check_record_keys(self.ann_file, 'images', annotations['images'],
                          ('file_name', 'width', 'height', 'objects'))
        data_list = []
        for index, record in enumerate(annotations['images']):
            objects = record['objects']
            self._check_objects(index, record)
            data_list.append(
                dict(
                    img_path=join_path(self.img_prefix, record['file_name']),
                    width=record['width'],
                    height=record['height'],
                    gt_label=sorted({obj['label']
                                     for obj in objects}),
                    gt_bboxes=np.array([obj['bbox'] for obj in objects],
                                       dtype=np.float32).reshape(-1, 4),
                    gt_bboxes_labels=np.array(
                        [obj['label'] for obj in objects], dtype=np.int64)))
        data_list, _ = drop_missing_images(data_list,
                                           f'ShapesML({self.split})')
        return data_list

    def _check_objects(self, index: int, record: dict) -> None:
        """Refuse an object of image record ``index`` without a label and
        a box, or whose label is no class index."""
        check_record_keys(self.ann_file, f'images[{index}].objects',
                          record['objects'], ('label', 'bbox'))
        num_classes = len(self.CLASSES)
        for obj in record['objects']:
            if obj['label'] not in range(num_classes):
                raise ValueError(
                    f'{self.ann_file}: images[{index}] '
                    f'({record["file_name"]}) has an object of label '
                    f'{obj["label"]}, not a class index 0..{num_classes - 1}')

    def extra_repr(self) -> List[str]:
        """Extra lines for ``repr(dataset)``."""
        return [
            f'Split: \t{self.split}',
            f'Annotation file: \t{self.ann_file}',
            f'Prefix of images: \t{self.img_prefix}',
        ]
