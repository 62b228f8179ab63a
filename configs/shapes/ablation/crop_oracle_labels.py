# Headroom, REPORT ONLY (reads the train split's ground-truth boxes): the
# baseline trained on the crop oracle's labels, the teacher's per-class max
# over crops around the ground-truth boxes (grown and resized as CAM boxes),
# instead of its global-view labels. What the label update could give if its
# boxes found every object.
_base_ = ['./global_labels.py']

default_hooks = dict(
    initial_labels=dict(
        _delete_=True,
        type='CropOracleLabelHook',
        view_size=_base_.image_size,
        crop_size=_base_.teacher_size,
        box_offset=16))
