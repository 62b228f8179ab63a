# CCD as the authors' released training script runs it: the method values
# of ccd.py and the choices the script ties to its models
# (ccd_script_values.py): torchvision's ImageNet ResNet-50, the teacher's
# inputs normalised with ImageNet's mean and std, the one prompt
# 'a photo of the {}'.
_base_ = ['./ccd.py']

teacher = _base_.ccd_script_values.teacher
model = dict(backbone=_base_.ccd_script_values.imagenet_backbone)
pseudo_label_dataset = dict(prompt_templates=_base_.ccd_script_values.
                            pseudo_label_dataset.prompt_templates)
