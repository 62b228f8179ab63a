# CDUL on ShapesML: the baseline at a size that trains on 2 CPU cores in
# minutes, next to ccd_shapesml.py. The teacher, the classifier and the
# learning rate are those of the CCD demo; views and snippets are at the
# images' 128 px.
_base_ = [
    '../_base_/datasets/shapesml.py', '../_base_/methods/cdul_paper.py',
    '../_base_/models/shapesml.py', '../_base_/default_runtime.py'
]

teacher = _base_.shapesml_teacher
model = _base_.shapesml_model

custom_hooks = [
    dict(type='CDULInitialLabelHook', view_size=128, snippet_size=128, grid=3,
         zeta=0.2, lam=1.0),
    dict(type='GradientAlignmentHook', warmup_epochs=3, c1=0.25, sigma=0.2,
         c2=0.0, view_size=128),
    dict(type='PseudoLabelStatsHook'),
    # Missing val/test images stop the run before it starts, not at epoch 1.
    dict(type='EvalImageCheckHook'),
]

train_dataloader = dict(
    dataset=dict(
        target_transform=dict(type='LatentPseudoLabel'),
        extra_table_fields=('initial_labels', 'latent_logits'),
        dataset=dict(pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(128, 128)),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='PackInputs'),
        ])))

# As in ccd_shapesml.py: a larger rate than the paper's 1e-5.
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
train_cfg = dict(max_epochs=10)
default_hooks = dict(logger=dict(interval=20))
