# CDUL on ShapesML: the baseline (../_base_/methods/cdul_paper.py) at a size
# that trains on 2 CPU cores in minutes, next to the CCD configs here, with
# their teacher, classifier and learning rate.
_base_ = ['../_base_/datasets/shapesml.py', '../_base_/methods/cdul_paper.py']

teacher = _base_.shapesml_teacher
model = _base_.shapesml_model
train_dataloader = dict(
    dataset=dict(
        _base_.pseudo_label_dataset,
        dataset=dict(pipeline=_base_.one_view_train_pipeline)))

# The teacher's whole-image view and snippets at its native size, the
# classifier's views at ShapesML's image size, where the paper uses 448 px
# for both.
default_hooks = dict(
    initial_labels=dict(
        view_size=_base_.teacher_size, snippet_size=_base_.teacher_size),
    label_update=dict(view_size=_base_.image_size),
    logger=dict(interval=20))

# As in ccd_shapesml_paper.py: a larger rate than the paper's 1e-5, and its 10
# epochs instead of CDUL's 20.
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=10)
