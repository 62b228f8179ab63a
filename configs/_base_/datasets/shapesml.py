# ShapesML: generated multi-object scenes (12 shape classes, 128 px), the
# offline world of the demo and the tests, with the two models made for it.
# Build the data with
#   python tools/dataset_converters/make_shapesml.py --out data/shapesml
# The train split is labeled by CLIP; the test split's labels evaluate.
_base_ = ['./ccd_views.py']

data_root = 'data/shapesml'
num_classes = 12
# The training and test resolution, and the classifier's views where the
# papers use 448 px (configs/shapes/*.py set them from it).
image_size = 128
# The side of the teacher's views and crops, where the papers use 640 px:
# the tiny teacher's native input (configs/shapes/teacher/*.json). Real CLIP
# reads views larger than its native size (the paper feeds RN50x64, native
# 448 px, at 640); the tiny teacher does not (docs/results.md: top-1 on
# object crops falls by about 16 points at 128 px), so this world feeds it
# the size it was trained for.
teacher_size = 96
resized = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(image_size, image_size)),
]
train_pipeline = resized + _base_.two_views
one_view_train_pipeline = resized + _base_.one_view
test_pipeline = resized + [dict(type='PackInputs')]
data_preprocessor = dict(num_classes=num_classes)

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CLIPPseudoLabelDataset',
        dataset=dict(
            type='ShapesML',
            data_root=data_root,
            split='train',
            pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ShapesML',
        data_root=data_root,
        split='test',
        test_mode=True,
        pipeline=test_pipeline))
val_evaluator = [dict(type='AveragePrecision')]
val_cfg = dict()
test_dataloader = val_dataloader
test_evaluator = val_evaluator
test_cfg = dict()

# The models of this world; a leaf sets `teacher = _base_.shapesml_teacher`
# and `model = _base_.shapesml_model` (a base may not define `teacher` or
# `model` next to a method base that does).
# A tiny CLIP trained on ShapesML by tools/shapesml/train_teacher.py, loaded
# by path exactly as real CLIP weights are.
shapesml_teacher = dict(
    type='CLIPTeacher',
    model_name='shapesml-clip-rn',
    model_config='configs/shapes/teacher/shapesml-clip-rn.json',
    pretrained='work_dirs/shapesml_teacher/shapesml-clip-rn.pt',
    normalization='clip')
# A ResNet-18 of quarter width, output stride 16 (last stage not strided:
# 8x8 CAMs). As the paper starts from ImageNet weights (CCD 4.1), it starts
# from a backbone pretrained on labelled single objects of ShapesML's own
# generator stream (tools/shapesml/pretrain_backbone.py; never the splits).
shapesml_model = dict(
    backbone=dict(
        depth=18,
        stem_channels=16,
        base_channels=16,
        strides=(1, 2, 2, 1),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/shapesml_backbone/resnet18-quarter.pth',
            prefix='backbone.')),
    head=dict(num_classes=num_classes, in_channels=128))
