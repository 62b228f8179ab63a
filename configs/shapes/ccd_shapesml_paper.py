# CCD on ShapesML: the paper's method (../_base_/methods/ccd_paper.py) at a
# size that trains on 2 CPU cores in minutes. The teacher is a tiny CLIP
# trained on ShapesML, the classifier a small ResNet-18 pretrained on
# ShapesML objects (../_base_/datasets/shapesml.py).
_base_ = ['../_base_/datasets/shapesml.py', '../_base_/methods/ccd_paper.py']

teacher = _base_.shapesml_teacher
model = _base_.shapesml_model
train_dataloader = dict(dataset=_base_.pseudo_label_dataset)

# The paper's pixel sizes on ShapesML's 128 px images: the 448 px classifier
# views are the image size, the 640 px teacher views and crops the teacher's
# native size; the boxes grow by 16 px on the classifier's view (80 px on
# the 640 px view, x 128 / 640).
default_hooks = dict(
    initial_labels=dict(view_size=_base_.teacher_size),
    label_update=dict(
        view_size=_base_.image_size,
        crop_size=_base_.teacher_size,
        box_offset=16,
        # Boxes of 8 images go to cam_boxes_epoch_3.json for
        # tools/visualize.py.
        record_boxes=8),
    label_free_checkpoint=dict(view_size=_base_.image_size),
    logger=dict(interval=20))

# The paper's rate 1e-5 fine-tunes a ResNet-101 on 448 px images; this small
# backbone on 128 px scenes needs a larger one.
optim_wrapper = dict(optimizer=dict(lr=1e-3))
