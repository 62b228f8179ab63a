"""How well the CAM boxes of a label update cover the ground-truth objects
of the training split (CCD 3.2). It reads the split's ground-truth boxes, so
it serves reports only."""
from typing import Dict, Sequence

import torch
from torch import Tensor
from torchvision.ops import box_iou


def cam_box_recall(proposal_boxes: Sequence[Tensor],
                   proposal_classes: Sequence[Tensor],
                   object_boxes: Sequence[Tensor],
                   object_classes: Sequence[Tensor],
                   image_sides: Sequence[int],
                   iou_threshold: float = 0.5,
                   small_side: float = 0.3) -> Dict[str, dict]:
    """Recall of ground-truth objects by the CAM boxes of their class.

    All boxes are ``x1, y1, x2, y2`` in the coordinates of one square view
    per image (the label update's view; ground-truth boxes scaled to it).
    An object is *found* when some proposal of its class overlaps it with
    IoU >= ``iou_threshold``; it is *whole* in its best box of its class
    when that box contains the object entirely (the crop the teacher sees
    does not cut it). An object is small when its longer side is below
    ``small_side`` of the view's side.

    Args:
        proposal_boxes (Sequence[Tensor]): per image, ``(K, 4)`` CAM boxes.
        proposal_classes (Sequence[Tensor]): per image, ``(K,)`` the class
            each box was proposed for.
        object_boxes (Sequence[Tensor]): per image, ``(M, 4)`` ground-truth
            boxes in the same coordinates.
        object_classes (Sequence[Tensor]): per image, ``(M,)`` their classes.
        image_sides (Sequence[int]): per image, the side of the view.
        iou_threshold (float): IoU that counts as found. Defaults to 0.5.
        small_side (float): Longer side, as a fraction of the view's side,
            under which an object is small. Defaults to 0.3.

    Returns:
        dict: for ``'all'``, ``'small'`` and ``'large'`` objects:
        ``objects`` (count), ``recall`` (found, %), ``recall_any_class``
        (some box of any class has IoU >= threshold, %), ``mean_best_iou``
        (best IoU with a box of the object's class, 0 without one),
        ``whole`` (% of objects whose best box of their class contains them)
        and ``boxes_of_class`` (boxes proposed for the object's class per
        object); and under ``'proposals'``: ``boxes_per_image`` and
        ``absent_class`` (% of boxes proposed for a class not in the image).
    """
    rows = []
    num_boxes = num_absent = 0
    for boxes, classes, objects, labels, side in zip(proposal_boxes,
                                                     proposal_classes,
                                                     object_boxes,
                                                     object_classes,
                                                     image_sides):
        boxes, objects = boxes.float().view(-1, 4), objects.float().view(-1, 4)
        classes, labels = classes.long().view(-1), labels.long().view(-1)
        num_boxes += len(boxes)
        num_absent += int((~torch.isin(classes, labels)).sum())
        iou = box_iou(objects, boxes) if len(boxes) else torch.zeros(
            len(objects), 0)
        same_class = labels[:, None] == classes[None, :]
        class_iou = torch.where(same_class, iou, torch.full_like(iou, -1))
        for index in range(len(objects)):
            best_iou, best = (
                class_iou[index].max(0) if len(boxes) else
                (torch.tensor(-1.), None))
            has_box = bool(best_iou >= 0)
            whole = has_box and bool(
                (boxes[best, :2] <= objects[index, :2]).all() and
                (boxes[best, 2:] >= objects[index, 2:]).all())
            extent = (objects[index, 2:] - objects[index, :2]).max()
            rows.append(
                dict(
                    small=bool(extent < small_side * side),
                    found=bool(best_iou >= iou_threshold),
                    found_any=bool((iou[index] >= iou_threshold).any()),
                    best_iou=max(float(best_iou), 0.),
                    whole=whole,
                    boxes_of_class=int(same_class[index].sum())))
    report = {
        name: _summary([r for r in rows if keep(r)])
        for name, keep in (('all', lambda r: True), ('small',
                                                     lambda r: r['small']),
                           ('large', lambda r: not r['small']))
    }
    report['proposals'] = dict(
        boxes_per_image=num_boxes / max(len(proposal_boxes), 1),
        absent_class=100. * num_absent / max(num_boxes, 1))
    return report


def _summary(rows: Sequence[dict]) -> dict:
    count = max(len(rows), 1)
    return dict(
        objects=len(rows),
        recall=100. * sum(r['found'] for r in rows) / count,
        recall_any_class=100. * sum(r['found_any'] for r in rows) / count,
        mean_best_iou=sum(r['best_iou'] for r in rows) / count,
        whole=100. * sum(r['whole'] for r in rows) / count,
        boxes_of_class=sum(r['boxes_of_class'] for r in rows) / count)
