# Ablation baseline (CCD Table 2, first row): the classifier learns the
# teacher's global-view labels, max(p, floor), without debias, label update
# or consistency; the weak view alone is served.
_base_ = ['../ccd_shapesml_paper.py']

default_hooks = dict(
    label_update=dict(update_epochs=[]), warmup=dict(consistency=False))
train_dataloader = dict(
    dataset=dict(
        target_transform=dict(debias=False),
        dataset=dict(pipeline=_base_.one_view_train_pipeline)))
