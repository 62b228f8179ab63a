# The papers' training and test resolution, 448 px (CCD 4.1; CDUL states
# none and runs at CCD's here), and the pipelines built from it for the
# VOC, COCO and NUS-WIDE bases.
_base_ = ['./ccd_views.py']

image_size = 448
resized = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(image_size, image_size)),
]
train_pipeline = resized + _base_.two_views
one_view_train_pipeline = resized + _base_.one_view
test_pipeline = resized + [dict(type='PackInputs')]
