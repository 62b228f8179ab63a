# CCD as this project's VOC, COCO and NUS-WIDE configs run it: the paper's
# setup (ccd_paper.py: ResNet-101, OpenAI's CLIP RN50x64 fed as its weights
# expect, the paper's prompts and sizes) with the method values of the
# authors' released training script where they differ from the paper
# (ccd_script_values.py): tau_H 2.0, t by the script's windowed pass, alpha
# 0.2 with the local label blended unclamped, positive CAM x3 from epoch 0
# with boxes from it at the script's row-major corners, head lr x10. On
# ShapesML these values beat the paper's beyond the noise on every split
# and teacher tried (README.md, "Configs"). The script's choices tied to
# its models stay out: ccd_script.py adds them.
_base_ = ['./ccd_paper.py', './ccd_script_values.py']

default_hooks = _base_.ccd_script_values.default_hooks
model = _base_.ccd_script_values.model
optim_wrapper = _base_.ccd_script_values.optim_wrapper
pseudo_label_dataset = dict(target_transform=_base_.ccd_script_values.
                            pseudo_label_dataset.target_transform)
