# CCD as the paper sets it up (CCD 3.1-3.4, 4.1): the classifier, its
# schedule, the teacher, the hooks that run the method and the method's
# part of the training set. A leaf config adds a dataset base and sets
#   model = dict(head=dict(num_classes=_base_.num_classes))
#   train_dataloader = dict(dataset=_base_.pseudo_label_dataset)
# The hooks are named entries of `default_hooks`, so a config or the command
# line changes one by name: default_hooks.label_update.class_threshold=...
_base_ = [
    '../models/resnet101_cam.py', '../schedules/ccd_adam_10e.py',
    '../default_runtime.py'
]

# Teacher: frozen CLIP ResNet-50x64 (OpenAI weights). The label hooks use
# this top-level field, so on an offline machine
# `--cfg-options teacher.pretrained=/path/to/RN50x64.pt` switches the weights.
teacher = dict(
    type='CLIPTeacher',
    model_name='RN50x64-quickgelu',
    pretrained='openai',
    normalization='clip')

# 4.1: the teacher sees the whole image and the crops at 640 px; the
# label-free selection scores the classifier at its training resolution,
# 448 px (../datasets/ccd_views_448.py).
teacher_view_size = 640
default_hooks = dict(
    # 3.1/3.3: label every training image, estimate the CLIP bias from
    # confident (entropy <= tau_H = 0.5) top-1 predictions.
    initial_labels=dict(
        type='CLIPInitialLabelHook',
        view_size=teacher_view_size,
        entropy_threshold=0.5),
    # 3.2: at the start of epoch E_w = 2 (0-based), CAM boxes of the classes
    # scoring above t = 0.5 (CAM threshold 0.95, grown by 80 px on the
    # 640 px view) -> crops (longer side 640 px) -> teacher.
    label_update=dict(
        type='CAMLabelUpdateHook',
        update_epochs=(2, ),
        class_threshold=0.5,
        view_size=teacher_view_size,
        crop_size=teacher_view_size,
        cam_threshold=0.95,
        box_offset=80),
    # 3.4: the consistency loss between weak and strong views from epoch
    # E_w = 2 on.
    warmup=dict(type='CCDWarmupHook', warmup_epochs=2, consistency=True),
    # 4.1: keep the epoch at the first local minimum of the pseudo-label
    # mAP's gradient (best_label_free.pth).
    label_free_checkpoint=dict(type='LabelFreeCheckpointHook', view_size=448),
    # Targets per image, saturated labels, mean value: logged every epoch.
    pseudo_label_stats=dict(type='PseudoLabelStatsHook'),
    # Missing val/test images stop the run before it starts, not at epoch 1.
    eval_image_check=dict(type='EvalImageCheckHook'),
)
# A name for this file only: the settings are the hooks' arguments.
del teacher_view_size

# The method's part of the training set (CLIPPseudoLabelDataset): targets
# are the debiased initial labels blended with the local ones after the
# update, alpha * initial + (1 - alpha) * local with alpha = 0.4 (3.3, Eq. 7).
pseudo_label_dataset = dict(
    target_transform=dict(type='DebiasPseudoLabel', debias=True, alpha=0.4))
