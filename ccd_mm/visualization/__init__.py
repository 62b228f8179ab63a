"""Pictures of what CCD did: CAM boxes of the label update, the class
bias, pseudo-label histograms, and the teacher's dense class scores."""
from .cam_box_drawing import class_color, draw_cam_boxes
from .dense_map_plots import plot_dense_maps
from .label_plots import plot_class_bias, plot_label_histograms

__all__ = [
    'class_color', 'draw_cam_boxes', 'plot_class_bias', 'plot_dense_maps',
    'plot_label_histograms'
]
