"""Pictures of what CCD did: CAM boxes of the label update, the class
bias, and pseudo-label histograms."""
from .cam_box_drawing import class_color, draw_cam_boxes
from .label_plots import plot_class_bias, plot_label_histograms

__all__ = [
    'class_color', 'draw_cam_boxes', 'plot_class_bias', 'plot_label_histograms'
]
