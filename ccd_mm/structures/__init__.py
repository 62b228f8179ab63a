"""Image views as tensors, shared by the teacher and the labeling passes."""
from .view_tensors import as_unit_range, image_to_tensor, stack_by_shape

__all__ = ['as_unit_range', 'image_to_tensor', 'stack_by_shape']
