# CCD on ShapesML as the VOC, COCO and NUS-WIDE defaults run it
# (../_base_/methods/ccd.py): the method values of the authors' released
# training script where they differ from the paper (tau_H 2.0, t by the
# script's windowed pass, alpha 0.2 with the local label blended unclamped,
# positive CAM x3 from epoch 0 with boxes from it at the script's row-major
# corners, head lr x10) at the sizes of ccd_shapesml_paper.py, the paper's
# values on ShapesML. The README demo runs this config.
# The script's choices tied to its models stay out here as in the defaults:
# the classifier is ShapesML's small backbone, not the script's ImageNet
# ResNet-50, and the teacher keeps the input it was trained with (CLIP's
# pixel normalisation, captions 'a photo of the {}.'), not the script's
# ImageNet normalisation and prompt without a period, chosen for OpenAI's
# CLIP: fed those, the ShapesML 1.1 teacher's global labels fell from 76.2
# to 64.7 train label mAP (docs/results.md). So on ShapesML the script's
# preset and this one are the same config.
_base_ = ['./ccd_shapesml_paper.py', '../_base_/methods/ccd_script_values.py']

default_hooks = _base_.ccd_script_values.default_hooks
model = _base_.ccd_script_values.model
optim_wrapper = _base_.ccd_script_values.optim_wrapper
train_dataloader = dict(
    dataset=dict(target_transform=_base_.ccd_script_values.
                 pseudo_label_dataset.target_transform))
