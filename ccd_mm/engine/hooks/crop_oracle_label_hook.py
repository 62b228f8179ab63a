from typing import Dict, Optional, Tuple

import torch
from mmpretrain.registry import HOOKS, MODELS

from ccd_mm.labeling import (crop_oracle_probs, grown_boxes,
                             initial_label_fields)
from .clip_initial_label_hook import CLIPInitialLabelHook


@HOOKS.register_module()
class CropOracleLabelHook(CLIPInitialLabelHook):
    """Initial labels from the teacher on crops around the **ground-truth**
    boxes: what labels the teacher would give if the label update found
    every object (the crop oracle of CCD 3.2, Eq. 5). For headroom reports
    only: it reads the training split's ground truth, so a classifier
    trained with it is not label-free and must never be reported as such.

    Each ground-truth box, scaled to the square ``view_size`` view, grown by
    ``box_offset`` px on every side and clipped as a CAM box is, is cropped
    and given to the teacher (longer side ``crop_size``, aspect kept); an
    image's label is the per-class max over its boxes. Everything else (the
    table, the bias and confident flags from ``entropy_threshold``,
    checkpoints, resume) is :class:`CLIPInitialLabelHook`'s. The training
    split must carry ``gt_bboxes`` and ``gt_bboxes_labels`` in its data
    infos (``ShapesML`` does).

    Args:
        teacher (dict, optional): See :class:`CLIPInitialLabelHook`.
        view_size (int): Side of the square view the boxes refer to.
            Defaults to 640.
        crop_size (int): Longer side of a crop given to the teacher.
            Defaults to 640.
        box_offset (int): Pixels added on every side of a box, on the
            ``view_size`` view. Defaults to 80.
        entropy_threshold (float): See :class:`CLIPInitialLabelHook`.
        batch_size (int): See :class:`CLIPInitialLabelHook`.
        num_workers (int): See :class:`CLIPInitialLabelHook`.
    """

    def __init__(self,
                 teacher: Optional[dict] = None,
                 view_size: int = 640,
                 crop_size: int = 640,
                 box_offset: int = 80,
                 entropy_threshold: float = 0.5,
                 batch_size: int = 32,
                 num_workers: int = 2):
        super().__init__(
            teacher=teacher,
            view_size=view_size,
            entropy_threshold=entropy_threshold,
            batch_size=batch_size,
            num_workers=num_workers)
        self.crop_size = crop_size
        self.box_offset = box_offset

    def initial_labels(
            self, dataset) -> Tuple[Dict[str, torch.Tensor], torch.Tensor]:
        """Table fields from the teacher's scores of the ground-truth box
        crops."""
        split = dataset.dataset
        infos = [split.get_data_info(index) for index in range(len(dataset))]
        boxes = grown_boxes([info['gt_bboxes'] for info in infos],
                            [(info['width'], info['height'])
                             for info in infos], self.view_size,
                            self.box_offset)
        teacher = MODELS.build(dataset.teacher_config(self.teacher))
        scores = crop_oracle_probs(
            teacher,
            dataset.image_paths(),
            boxes,
            self.view_size,
            self.crop_size,
            decoder=dataset.image_decoder)
        decoded = torch.ones(len(infos), dtype=torch.bool)
        return initial_label_fields(scores, decoded, self.entropy_threshold)
