"""The method's equations as pure torch functions (no mm imports)."""
from .aggregate import (blend_labels, cdul_global_local, fuse_global_and_dense,
                        grid_boxes, local_max)
from .bias import confident_mask, debias, entropy, estimate_clip_bias
from .box_pooling import box_cell_mask, pool_in_boxes
from .cam import (adaptive_class_threshold, cam_to_boxes, scale_positive_cam,
                  select_classes, windowed_class_threshold)
from .consistency import consistency_loss, soft_bce_with_logits
from .early_stop import binarize_saturated, label_free_stop_epoch, select_epoch
from .gradient_alignment import (alignment_loss, alignment_psi,
                                 gradient_alignment_step, labels_to_latent)
from .pseudo_label_statistics import pseudo_label_statistics

__all__ = [
    'adaptive_class_threshold', 'alignment_loss', 'alignment_psi',
    'binarize_saturated', 'blend_labels', 'box_cell_mask', 'cam_to_boxes',
    'cdul_global_local', 'confident_mask', 'consistency_loss', 'debias',
    'entropy', 'estimate_clip_bias', 'fuse_global_and_dense',
    'gradient_alignment_step', 'grid_boxes', 'label_free_stop_epoch',
    'labels_to_latent', 'local_max', 'pool_in_boxes',
    'pseudo_label_statistics', 'scale_positive_cam', 'select_classes',
    'select_epoch', 'soft_bce_with_logits', 'windowed_class_threshold'
]
