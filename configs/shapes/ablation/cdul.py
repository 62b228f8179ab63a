# CDUL on ShapesML (../cdul_shapesml.py) with CCD's label-free checkpoint
# selection added, so that its row is selected as the CCD rows are.
_base_ = ['../cdul_shapesml.py']

default_hooks = dict(
    label_free_checkpoint=dict(
        type='LabelFreeCheckpointHook', view_size=_base_.image_size))
