from . import transforms  # noqa: F401
from .clip_pseudo_label_dataset import CLIPPseudoLabelDataset
from .coco_multilabel import COCOMultiLabel
from .nus_wide import NUSWIDE
from .pseudo_label_table import (PseudoLabelTable, TableMismatchError,
                                 image_list_digest)
from .shapesml import ShapesML

__all__ = [
    'CLIPPseudoLabelDataset', 'COCOMultiLabel', 'NUSWIDE', 'PseudoLabelTable',
    'TableMismatchError', 'image_list_digest', 'ShapesML'
]
