# The CCD classifier (CCD 4.1): ImageNet ResNet-101 whose last feature map
# feeds a 1x1-conv class head; the conv output is the CAM, its global average
# the logits (no pooling neck). TwoViewClassifier forwards the weak view
# alone and, after warm-up, the strong view in a second pass (CCD 3.4), as
# the authors' training script does.
model = dict(
    type='TwoViewClassifier',
    backbone=dict(
        type='ResNet',
        depth=101,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/'
            'resnet/resnet101_8xb32_in1k_20210831-539c63f8.pth',
            prefix='backbone')),
    neck=None,
    head=dict(type='CCDConsistencyHead', num_classes=20, in_channels=2048),
)
