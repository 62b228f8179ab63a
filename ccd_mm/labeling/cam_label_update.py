"""Classifier-guided local labels (CCD 3.2): CAM boxes -> crops -> teacher."""
import time
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import all_gather_object, all_reduce

from ccd_mm.core.box_pooling import pool_in_boxes
from ccd_mm.core.cam import cam_to_boxes, select_classes
from ccd_mm.datasets.image_decoder import ImageDecoder
from ccd_mm.structures import as_unit_range
from .image_views import (CropViewDataset, GlobalViewDataset, collate_crops,
                          collate_views)
from .sharded_pass import gather_rows, iterate_shard
from .streaming_crop_labeler import StreamingCropLabeler

# Where the local labels of the CAM boxes come from: a teacher pass per crop
# (CCD), or the boxes pooled on one dense teacher pass over the view.
LOCAL_LABELS = ('crops', 'dense')


def normalize_for_classifier(classifier: torch.nn.Module,
                             views: torch.Tensor) -> torch.Tensor:
    """RGB views (uint8, or float in [0, 1]) -> the classifier's input,
    normalised with its data preprocessor's mean/std (given on the 0-255
    scale in mmpretrain)."""
    preprocessor = classifier.data_preprocessor
    device = next(classifier.parameters()).device
    views = as_unit_range(views.to(device)) * 255
    if getattr(preprocessor, '_enable_normalize', False):
        views = (views - preprocessor.mean) / preprocessor.std
    return views


@torch.no_grad()
def classifier_cams(
        classifier: torch.nn.Module,
        views: torch.Tensor,
        scaled_cam: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """(logits (B, C), class activation maps (B, C, h, w)) of a classifier
    whose head has ``forward_cam`` (``CAMMultiLabelHead``); with
    ``scaled_cam`` the maps the logits pool (positive part scaled)."""
    feats = classifier.extract_feat(
        normalize_for_classifier(classifier, views))
    cams = classifier.head.forward_cam(feats, scaled=scaled_cam)
    return classifier.head(feats).float(), cams.float()


@torch.no_grad()
def classifier_scores(classifier: torch.nn.Module,
                      img_paths: Sequence[str],
                      view_size: int,
                      batch_size: int = 32,
                      num_workers: int = 2,
                      decoder: Optional[ImageDecoder] = None) -> torch.Tensor:
    """Classifier probabilities (N, C) of every image's square view,
    gathered on every rank (label-free model selection, class-threshold
    calibration); ``decoder`` as in :func:`cam_local_scores`."""
    views = GlobalViewDataset(img_paths, view_size, decoder)
    index_parts, row_parts = [], []
    num_classes = None
    for batch in iterate_shard(views, batch_size, num_workers, collate_views):
        if batch.views is None:
            continue
        feats = classifier.extract_feat(
            normalize_for_classifier(classifier, batch.views))
        probs = torch.sigmoid(classifier.head(feats)).float().cpu()
        num_classes = probs.shape[1]
        index_parts.append(batch.indices[batch.decoded])
        row_parts.append(probs)
    if num_classes is None:
        num_classes = classifier.head.num_classes
    return gather_rows(index_parts, row_parts, len(views), num_classes)


def cam_local_scores(
        classifier: torch.nn.Module,
        teacher: torch.nn.Module,
        img_paths: Sequence[str],
        *,
        view_size: int,
        crop_size: int,
        class_threshold: float,
        cam_threshold: float = 0.95,
        box_offset: int = 80,
        scaled_cam: bool = False,
        box_rule: str = 'bounding',
        batch_size: int = 32,
        num_workers: int = 2,
        size_divisor: int = 32,
        show_progress: bool = False,
        record_limit: int = 0,
        keep_proposals: bool = False,
        decoder: Optional[ImageDecoder] = None,
        local_labels: str = 'crops',
        dense_view_size: Optional[int] = None) -> Tuple[torch.Tensor, dict]:
    """Local labels of every image (CCD 3.2 steps 1-5).

    The classifier sees the square ``view_size`` view; each class with
    ``sigmoid(logit) >= class_threshold`` (:func:`select_classes`) gets a
    box from its CAM (:func:`cam_to_boxes`); the teacher labels the crops
    (longer side ``crop_size``, aspect kept) and the per-class max over an
    image's crops is its local label (Eq. 5). An image without a selected
    class gets zeros. With ``scaled_cam`` the boxes come from the CAM whose
    positive part the head scales (the released script's); ``box_rule`` as
    in :func:`cam_to_boxes`.

    With ``local_labels='dense'`` no crop is made: the teacher runs once on
    the whole view (resized to ``dense_view_size``, default ``crop_size``),
    its per-location embeddings (``teacher.dense_embeddings``) are averaged
    over each box's cells (:func:`~ccd_mm.core.box_pooling.pool_in_boxes`)
    and classified, and the per-class max over an image's boxes is its local
    label as before; ``mean_crops`` then counts boxes.

    Returns:
        (local scores (N, C) identical on every rank, stats) where stats has
        ``mean_crops`` (crops per image), ``seconds`` and ``records``: for
        up to ``record_limit`` images of this rank, the boxes, classes and
        crop scores (for visualisation). With ``keep_proposals``, also
        ``proposals``: for every image (gathered from every rank), the
        ``boxes`` (K, 4) and ``classes`` (K,) it was cropped at, in view
        coordinates; undecodable images have none.
    """
    if local_labels not in LOCAL_LABELS:
        raise ValueError(f'local_labels must be one of {LOCAL_LABELS}, got '
                         f'{local_labels!r}')
    start = time.time()
    views = GlobalViewDataset(img_paths, view_size, decoder)
    boxes: List[torch.Tensor] = [torch.zeros(0, 4, dtype=torch.long)
                                 ] * len(views)
    classes: List[Optional[torch.Tensor]] = [None] * len(views)
    box_scores = {}  # dense mode: image index -> (K, C) scores of its boxes
    num_images = 0  # of this rank's share, undecodable ones included
    for batch in iterate_shard(views, batch_size, num_workers, collate_views,
                               show_progress):
        num_images += len(batch.indices)
        if batch.views is None:
            continue
        logits, cams = classifier_cams(classifier, batch.views, scaled_cam)
        selected = select_classes(logits, class_threshold)
        if local_labels == 'dense':
            maps = teacher.dense_embeddings(
                resized_views(batch.views, dense_view_size or crop_size))
        for row, index in enumerate(batch.indices[batch.decoded].tolist()):
            chosen = torch.nonzero(selected[row]).flatten()
            classes[index] = chosen.cpu()
            boxes[index] = cam_to_boxes(
                cams[row, chosen], (view_size, view_size),
                cam_threshold,
                box_offset,
                box_rule=box_rule).cpu()
            if local_labels == 'dense':
                box_scores[index] = teacher.probs_of_embeddings(
                    pool_in_boxes(maps[row], boxes[index],
                                  view_size)).float().cpu()
    if local_labels == 'dense':
        return _dense_local_scores(teacher, img_paths, view_size, boxes,
                                   classes, box_scores, num_images, start,
                                   record_limit, keep_proposals)

    crops = CropViewDataset(img_paths, boxes, view_size, crop_size,
                            size_divisor, decoder)
    labeler = StreamingCropLabeler(teacher, len(crops))
    num_crops = torch.zeros(2)  # crops, images labeled by this rank
    shard = []
    for batch in iterate_shard(crops, batch_size, num_workers, collate_crops,
                               show_progress):
        # Eq. 5: the local label of an image is the max over its crops.
        labeler.add(batch.indices[batch.owner], batch.stacks)
        shard.append(batch.indices)
        num_crops += torch.tensor([len(batch.owner),
                                   len(batch.indices)]).float()
    local = labeler.finish()
    local = gather_rows(shard, [local[indices] for indices in shard],
                        len(crops), teacher.num_classes)
    records = crop_records(
        teacher, crops, classes,
        torch.cat(shard)[:record_limit].tolist() if shard else [])
    return local, _pass_stats(num_crops, start, records, boxes, classes,
                              keep_proposals)


def _pass_stats(counts: torch.Tensor, start: float, records: List[dict],
                boxes: Sequence[torch.Tensor],
                classes: Sequence[Optional[torch.Tensor]],
                keep_proposals: bool) -> dict:
    """The stats of :func:`cam_local_scores` from this rank's (crops or
    boxes, images) ``counts``, summed over the ranks here."""
    all_reduce(counts)
    stats = dict(
        mean_crops=float(counts[0] / counts[1].clamp(min=1)),
        seconds=time.time() - start,
        records=records)
    if keep_proposals:
        stats['proposals'] = gather_proposals(boxes, classes)
    return stats


def resized_views(views: torch.Tensor, size: int) -> torch.Tensor:
    """Square RGB views (uint8, or float in [0, 1]) at ``size``, float in
    [0, 1] (bilinear with antialiasing, as PIL resizes the crops)."""
    views = as_unit_range(views)
    if views.shape[-1] == size and views.shape[-2] == size:
        return views
    return F.interpolate(
        views,
        size=(size, size),
        mode='bilinear',
        antialias=True,
        align_corners=False).clamp_(0, 1)


def _dense_local_scores(teacher, img_paths: Sequence[str], view_size: int,
                        boxes: List[torch.Tensor],
                        classes: List[Optional[torch.Tensor]],
                        box_scores: dict, num_images: int, start: float,
                        record_limit: int,
                        keep_proposals: bool) -> Tuple[torch.Tensor, dict]:
    """:func:`cam_local_scores`' result from the pooled box scores of this
    rank's images."""
    indices = sorted(box_scores)
    # Eq. 5: the max over an image's boxes; an image without one gets 0.
    rows = [
        box_scores[index].max(dim=0).values
        if len(box_scores[index]) else torch.zeros(teacher.num_classes)
        for index in indices
    ]
    local = gather_rows(
        [torch.tensor(indices, dtype=torch.long)],
        [torch.stack(rows)] if rows else [torch.zeros(0, teacher.num_classes)],
        len(img_paths), teacher.num_classes)
    num_boxes = torch.tensor(
        [sum(len(box_scores[index]) for index in indices),
         num_images]).float()
    records = [
        dict(
            img_path=img_paths[index],
            view_size=view_size,
            boxes=boxes[index].tolist(),
            classes=classes[index].tolist(),
            crop_scores=box_scores[index].tolist())
        for index in indices[:record_limit]
    ]
    return local, _pass_stats(num_boxes, start, records, boxes, classes,
                              keep_proposals)


def gather_proposals(boxes: Sequence[torch.Tensor],
                     classes: Sequence[Optional[torch.Tensor]]) -> List[dict]:
    """Every image's CAM boxes and their classes, from the rank that
    labeled it (``classes`` is None for images of other ranks)."""
    mine = {
        index: (boxes[index], image_classes)
        for index, image_classes in enumerate(classes)
        if image_classes is not None
    }
    proposals = [
        dict(
            boxes=torch.zeros(0, 4, dtype=torch.long),
            classes=torch.zeros(0, dtype=torch.long)) for _ in classes
    ]
    for part in all_gather_object(mine):
        for index, (image_boxes, image_classes) in part.items():
            proposals[index] = dict(boxes=image_boxes, classes=image_classes)
    return proposals


def crop_records(teacher: torch.nn.Module, crops: CropViewDataset,
                 classes: Sequence[Optional[torch.Tensor]],
                 indices: Sequence[int]) -> List[dict]:
    """Boxes, classes and per-crop teacher scores of a few images, for
    visualisation (``tools/visualize.py``)."""
    records = []
    for index in indices:
        _, image_crops = crops[index]
        scores = (
            teacher.label_views(image_crops).float().cpu().tolist()
            if image_crops else [])
        records.append(
            dict(
                img_path=crops.img_paths[index],
                view_size=crops.view_size,
                boxes=crops.boxes[index].tolist(),
                classes=classes[index].tolist()
                if classes[index] is not None else [],
                crop_scores=scores))
    return records
