# CCD on ShapesML with the paper's values (../ccd_shapesml_paper.py) with the
# label update's local labels read from one dense teacher pass over the view
# (MaskCLIP's value path, each CAM box's cells averaged) instead of one
# teacher pass per crop; the dense view is the crop size, the teacher's
# native 96 px (a 3 x 3 map for this ResNet teacher).
_base_ = ['../ccd_shapesml_paper.py']

default_hooks = dict(label_update=dict(local_labels='dense'))
