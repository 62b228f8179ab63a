# CCD on ShapesML with the values of the authors' released training script
# where they differ from the paper (../_base_/methods/ccd_script_values.py:
# tau_H 2.0, t by the script's windowed pass, alpha 0.2 with the local label
# blended unclamped, positive CAM x3 from epoch 0 with boxes from it at the
# script's row-major corners, head lr x10, ImageNet normalisation for the
# teacher, the prompt 'a photo of the {}'), at the sizes of ccd_shapesml.py.
# The classifier stays ccd_shapesml.py's small ShapesML backbone, not the
# script's ImageNet ResNet-50.
_base_ = ['./ccd_shapesml.py', '../_base_/methods/ccd_script_values.py']

teacher = _base_.ccd_script_values.teacher
default_hooks = _base_.ccd_script_values.default_hooks
model = _base_.ccd_script_values.model
optim_wrapper = _base_.ccd_script_values.optim_wrapper
train_dataloader = dict(dataset=_base_.ccd_script_values.pseudo_label_dataset)
