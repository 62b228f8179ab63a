# Control for CCD on ShapesML with the paper's values
# (../ccd_shapesml_paper.py): everything the paper's method does (debias,
# consistency, warm-up) except the classifier-guided label update, so that
# the update's own contribution is the full method minus this row.
_base_ = ['../ccd_shapesml_paper.py']

default_hooks = dict(label_update=dict(update_epochs=[]))
