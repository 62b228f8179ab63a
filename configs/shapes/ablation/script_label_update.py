# Ablation (CCD Table 2, second row) of the released script's preset
# (../ccd_shapesml_script.py): the baseline's global labels plus the
# classifier-guided label update alone, without debias or consistency; the
# weak view alone is served.
_base_ = ['../ccd_shapesml_script.py']

default_hooks = dict(warmup=dict(consistency=False))
train_dataloader = dict(
    dataset=dict(
        target_transform=dict(debias=False),
        dataset=dict(pipeline=_base_.one_view_train_pipeline)))
