# CCD with the values of the authors' released training script where they
# differ from the paper: ccd_script_values.py merged into ccd_paper.py.
_base_ = ['./ccd_paper.py', './ccd_script_values.py']

teacher = _base_.ccd_script_values.teacher
default_hooks = _base_.ccd_script_values.default_hooks
model = dict(
    backbone=_base_.ccd_script_values.imagenet_backbone,
    head=_base_.ccd_script_values.model.head)
optim_wrapper = _base_.ccd_script_values.optim_wrapper
pseudo_label_dataset = _base_.ccd_script_values.pseudo_label_dataset
