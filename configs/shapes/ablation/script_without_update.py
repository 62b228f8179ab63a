# Control for the released script's preset (../ccd_shapesml.py):
# everything it does (tau_H 2 debias, consistency, positive CAM x3, head lr
# x10) except the classifier-guided label update, so that its gain over the
# baseline splits into what the label update brings and what the rest of
# its training brings.
_base_ = ['../ccd_shapesml.py']

default_hooks = dict(label_update=dict(update_epochs=[]))
