"""Pseudo-label quality: where the labels come from and the report against
the training split's ground truth."""
from .cam_box_recall import cam_box_recall
from .paired_difference import paired_difference, student_t_quantile
from .pseudo_label_report import (format_report, pseudo_label_report,
                                  train_ground_truth)
from .pseudo_label_source import load_pseudo_labels

__all__ = [
    'cam_box_recall', 'paired_difference', 'student_t_quantile',
    'format_report', 'pseudo_label_report', 'train_ground_truth',
    'load_pseudo_labels'
]
