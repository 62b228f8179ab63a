"""Labeling passes over a training split: teacher global views, classifier
CAM crops. Shared by the training hooks, the tools and the benchmarks."""
from .cam_label_update import (LOCAL_LABELS, cam_local_scores, classifier_cams,
                               classifier_scores)
from .crop_oracle import BOX_EDGES, crop_oracle_probs, cut_boxes, grown_boxes
from .global_labeling import initial_label_fields, label_global_views
from .grid_snippets import label_grid_snippets
from .image_views import CropViewDataset, GlobalViewDataset, crop_view_size
from .sharded_pass import check_pass_arguments

__all__ = [
    'LOCAL_LABELS', 'cam_local_scores', 'classifier_cams', 'classifier_scores',
    'BOX_EDGES', 'crop_oracle_probs', 'cut_boxes', 'grown_boxes',
    'initial_label_fields', 'label_global_views', 'label_grid_snippets',
    'CropViewDataset', 'GlobalViewDataset', 'crop_view_size',
    'check_pass_arguments'
]
