# CCD on ShapesML with the values of the authors' released training script
# where they differ from the paper (../_base_/methods/ccd_script_values.py:
# tau_H 2.0, t calibrated for 4-6 crops per image, alpha 0.2, positive CAM
# x3, head lr x10, ImageNet normalisation for the teacher), at the sizes of
# ccd_shapesml.py.
_base_ = ['./ccd_shapesml.py', '../_base_/methods/ccd_script_values.py']

teacher = _base_.ccd_script_values.teacher
default_hooks = _base_.ccd_script_values.default_hooks
model = _base_.ccd_script_values.model
optim_wrapper = _base_.ccd_script_values.optim_wrapper
train_dataloader = dict(dataset=_base_.ccd_script_values.pseudo_label_dataset)
