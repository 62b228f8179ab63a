# The two models of the ShapesML world, shared by configs/shapes/*.py, which
# set `teacher = _base_.shapesml_teacher` and `model = _base_.shapesml_model`
# (a base may not define `teacher` or `model` next to a method base that
# does).

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
    head=dict(num_classes=12, in_channels=128))
