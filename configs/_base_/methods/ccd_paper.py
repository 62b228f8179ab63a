# CCD as the paper sets it up (CCD 3.1-3.4, 4.1): the classifier, its
# schedule, the teacher and the hooks that run the method. A leaf config adds
# a dataset base and the number of classes.
_base_ = ['../models/resnet101_cam.py', '../schedules/ccd_adam_10e.py']

# Teacher: frozen CLIP ResNet-50x64 (OpenAI weights), global views at 640.
# The label hooks use this top-level field, so on an offline machine
# `--cfg-options teacher.pretrained=/path/to/RN50x64.pt` switches the weights.
teacher = dict(
    type='CLIPTeacher',
    model_name='RN50x64-quickgelu',
    pretrained='openai',
    normalization='clip')

custom_hooks = [
    # 3.1/3.3: label every training image, estimate the CLIP bias from
    # confident (entropy <= tau_H = 0.5) top-1 predictions.
    dict(type='CLIPInitialLabelHook', view_size=640, entropy_threshold=0.5),
    # 3.2: after E_w = 2 warm-up epochs, CAM boxes (t = 0.5, CAM threshold
    # 0.95, +-80 px on the 640 view) -> crops (longer side 640) -> teacher.
    dict(type='CAMLabelUpdateHook', update_epochs=(2, ), class_threshold=0.5,
         view_size=640, crop_size=640, cam_threshold=0.95, box_offset=80),
    # 3.4: consistency loss between weak and strong views after warm-up.
    dict(type='CCDWarmupHook', warmup_epochs=2),
    # 4.1: stop at the first local minimum of the pseudo-label mAP gradient.
    dict(type='LabelFreeCheckpointHook', view_size=448),
    # Targets per image, saturated labels, mean value: logged every epoch.
    dict(type='PseudoLabelStatsHook'),
    # Missing val/test images stop the run before it starts, not at epoch 1.
    dict(type='EvalImageCheckHook'),
]
