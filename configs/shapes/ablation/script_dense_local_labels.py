# CCD on ShapesML with the defaults' values (../ccd_shapesml.py), the label
# update's local labels read from one dense teacher pass over the view
# (./dense_local_labels.py's option) instead of one teacher pass per crop:
# at the script's windowed t the update proposes about eight boxes an image,
# where the crops cost most and the one pass saves most.
_base_ = ['../ccd_shapesml.py']

default_hooks = dict(label_update=dict(local_labels='dense'))
