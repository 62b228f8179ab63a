# Control for CCD on ShapesML (../ccd_shapesml.py): everything the paper's
# method does (debias, consistency, warm-up) except the classifier-guided
# label update, so that the update's own contribution is the full method
# minus this row.
_base_ = ['../ccd_shapesml.py']

default_hooks = dict(label_update=dict(update_epochs=[]))
