# Ablation (CCD Table 2, "+ label update + debias") with the released
# script's values (../ccd_shapesml.py): debias and the label update, no
# consistency term; the weak view alone is served.
_base_ = ['../ccd_shapesml.py']

default_hooks = dict(warmup=dict(consistency=False))
train_dataloader = dict(
    dataset=dict(dataset=dict(pipeline=_base_.one_view_train_pipeline)))
