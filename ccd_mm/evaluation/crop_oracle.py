"""The crop oracle of a ShapesML split: the teacher on a crop around every
ground-truth box, the ceiling of what crop proposals can give a teacher
(CCD 3.2, Eq. 5). It reads the split's ground truth, so it serves reports
only (tools/shapesml/teacher_realism.py, the ablation's oracle row)."""
import json
import os.path as osp
from typing import List, Sequence, Tuple

import torch

from ccd_mm.core.aggregate import local_max
from ccd_mm.labeling.image_views import CropViewDataset


def load_split(data_root: str, split: str) -> Tuple[List[str], List[dict]]:
    """Image paths and annotation records of a ShapesML split."""
    with open(osp.join(data_root, 'annotations', f'{split}.json')) as f:
        records = json.load(f)['images']
    paths = [
        osp.join(data_root, 'images', record['file_name'])
        for record in records
    ]
    return paths, records


def grown_boxes(records: Sequence[dict], view_size: int,
                offset: int) -> List[torch.Tensor]:
    """Ground-truth boxes in view coordinates, grown by ``offset`` px on
    every side and clipped, as CAM boxes are (CCD Sec. 3.2)."""
    boxes = []
    for record in records:
        scale = torch.tensor([record['width'], record['height']] * 2)
        box = torch.tensor([o['bbox'] for o in record['objects']],
                           dtype=torch.float).view(-1, 4)
        box = box * view_size / scale
        box[:, :2] -= offset
        box[:, 2:] += offset
        boxes.append(box.round().clamp(0, view_size).long())
    return boxes


@torch.no_grad()
def crop_oracle_probs(teacher: torch.nn.Module, paths: Sequence[str],
                      boxes: Sequence[torch.Tensor], view_size: int,
                      crop_size: int) -> torch.Tensor:
    """(N, C) per-class max of the teacher over each image's box crops."""
    crops = CropViewDataset(paths, boxes, view_size, crop_size)
    views, owners = [], []
    for index in range(len(crops)):
        _, image_crops = crops[index]
        views += image_crops
        owners += [index] * len(image_crops)
    return local_max(
        teacher.label_views(views), torch.tensor(owners), len(crops))
