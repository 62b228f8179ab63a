# CCD's two views of a training image (CCD 3.4, Fig. 5), applied after the
# image is resized to its config family's size (ccd_views_448.py for the
# papers' datasets, shapesml.py): the weak view is a random horizontal flip;
# the strong view an independent flip and ColorJitter(0.5, 0.5, 0.5, 0.5).
# torchvision's ColorJitter runs on PIL: mmcv's crashes on numpy 2 with
# hue > 0.
weak_view = [dict(type='RandomFlip', prob=0.5, direction='horizontal')]
strong_view = weak_view + [
    dict(type='NumpyToPIL', to_rgb=True),
    dict(
        type='torchvision/ColorJitter',
        brightness=0.5,
        contrast=0.5,
        saturation=0.5,
        hue=0.5),
    dict(type='PILToNumpy', to_bgr=True),
]
# After the resize: the two views (CCD), the weak view alone (CDUL's one
# view of the whole image, 3.3), or nothing (evaluation).
two_views = [
    dict(
        type='MultiView',
        num_views=[1, 1],
        transforms=[weak_view, strong_view]),
    dict(type='PackInputs'),
]
one_view = weak_view + [dict(type='PackInputs')]

# ImageNet statistics for the classifier; views are packed as BGR.
data_preprocessor = dict(
    type='TwoViewDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)
