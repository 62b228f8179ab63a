"""Pseudo-label quality: where the labels come from and the report against
the training split's ground truth."""
from .cam_box_recall import cam_box_recall
from .crop_oracle import crop_oracle_probs, grown_boxes
from .paired_difference import paired_difference, student_t_quantile
from .pseudo_label_report import (format_report, pseudo_label_report,
                                  train_ground_truth)
from .pseudo_label_source import load_pseudo_labels

__all__ = [
    'cam_box_recall', 'crop_oracle_probs', 'grown_boxes',
    'paired_difference', 'student_t_quantile', 'format_report',
    'pseudo_label_report', 'train_ground_truth', 'load_pseudo_labels'
]
