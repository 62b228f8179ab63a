# CCD on ShapesML (../ccd_shapesml_paper.py) with both dense options: initial
# labels fused with the dense scores of the global view's one teacher pass
# (TagCLIP's per-class max over locations, averaged with the global score),
# and the label update's local labels pooled on one dense pass
# (./dense_local_labels.py).
_base_ = ['./dense_local_labels.py']

default_hooks = dict(initial_labels=dict(dense_fusion=True))
