from typing import Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ccd_mm.core.aggregate import fuse_global_and_dense
from ccd_mm.core.bias import confident_mask, estimate_clip_bias
from ccd_mm.datasets.image_decoder import ImageDecoder
from .image_views import GlobalViewDataset, collate_views
from .sharded_pass import gather_rows, iterate_shard


def label_global_views(
    teacher: torch.nn.Module,
    img_paths: Sequence[str],
    view_size: int,
    batch_size: int = 32,
    num_workers: int = 2,
    show_progress: bool = False,
    decoder: Optional[ImageDecoder] = None,
    dense_fusion: bool = False
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Teacher probabilities of every image's global view (CCD Eq. 1-2).

    Args:
        teacher: maps (B, 3, S, S) uint8 RGB to (B, C) probabilities
            (``CLIPTeacher``).
        img_paths: the images, in dataset order.
        view_size: side S of the square global view (paper: 640).
        batch_size: images per teacher forward.
        num_workers: DataLoader workers that decode and resize.
        show_progress: progress bar on rank 0.
        decoder: the training pipeline's image decoder; None for mmcv's
            default ``LoadImageFromFile``.
        dense_fusion: fuse each view's global scores with its dense ones,
            both of one trunk pass (``teacher.global_and_dense_probs``,
            :func:`~ccd_mm.core.aggregate.fuse_global_and_dense`).

    Returns:
        (scores (N, C), decoded (N,) bool, fingerprints (N,) int64): rows of
        undecodable images are 0; the fingerprints of the files read
        (:func:`~ccd_mm.labeling.file_fingerprints.file_fingerprint`), for
        the label table. Identical on every rank when distributed.
    """
    num_classes = teacher.num_classes
    views = GlobalViewDataset(img_paths, view_size, decoder, fingerprints=True)
    index_parts, row_parts, fingerprint_parts = [], [], []
    for batch in iterate_shard(views, batch_size, num_workers, collate_views,
                               show_progress):
        # The last column carries the decoded flag through the gather.
        rows = torch.zeros(len(batch.indices), num_classes + 1)
        rows[:, -1] = batch.decoded.float()
        if batch.views is not None:
            if dense_fusion:
                scores = fuse_global_and_dense(
                    *teacher.global_and_dense_probs(batch.views))
            else:
                scores = teacher(batch.views)
            rows[batch.decoded, :-1] = scores.float().cpu()
        index_parts.append(batch.indices)
        row_parts.append(rows)
        fingerprint_parts.append(batch.fingerprints[:, None])
    table = gather_rows(index_parts, row_parts, len(views), num_classes + 1)
    fingerprints = gather_rows(
        index_parts, fingerprint_parts, len(views), 1, dtype=torch.long)
    return table[:, :-1].contiguous(), table[:, -1] > 0.5, fingerprints[:, 0]


def initial_label_fields(
        scores: Tensor, decoded: Tensor,
        entropy_threshold: float) -> Tuple[Dict[str, Tensor], Tensor]:
    """The label-table fields of the initial labeling (CCD 3.1, 3.3).

    Args:
        scores (Tensor): (N, C) teacher probabilities of the global views.
        decoded (Tensor): (N,) bool, the image could be decoded.
        entropy_threshold (float): tau_H of the confident images.

    Returns:
        (fields, has_estimate): ``fields`` maps the label-table fields
        ``global_scores``, ``valid``, ``bias`` and ``confident`` to their
        values (what a label cache holds); ``has_estimate`` (C,) marks
        the classes with a confident top-1 image (the others keep b_c = 1).
    """
    bias, has_estimate = estimate_clip_bias(scores[decoded], entropy_threshold)
    confident = confident_mask(scores, entropy_threshold) & decoded
    return dict(
        global_scores=scores, valid=decoded, bias=bias,
        confident=confident), has_estimate
