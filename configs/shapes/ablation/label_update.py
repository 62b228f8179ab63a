# Ablation: debias and the classifier-guided label update (CCD 3.2-3.3), no
# consistency term; the weak view alone is served.
_base_ = ['../ccd_shapesml_paper.py']

default_hooks = dict(warmup=dict(consistency=False))
train_dataloader = dict(
    dataset=dict(dataset=dict(pipeline=_base_.one_view_train_pipeline)))
