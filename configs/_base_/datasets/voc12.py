# PASCAL VOC 2012 (20 classes): train split (5,717) labeled by CLIP, val split
# (5,823) for evaluation. Layout: docs/datasets.md. Objects marked difficult
# are ignored by the VOC metric (VOC convention).
_base_ = ['./ccd_views_448.py']

data_root = 'data/VOCdevkit/VOC2012'
# VOC's class names as a prompt should say them, in mmpretrain's VOC order.
class_prompts = [
    'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat',
    'chair', 'cow', 'dining table', 'dog', 'horse', 'motorbike', 'person',
    'potted plant', 'sheep', 'sofa', 'train', 'tv monitor'
]
num_classes = 20
data_preprocessor = dict(num_classes=num_classes)

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CLIPPseudoLabelDataset',
        class_prompts=class_prompts,
        dataset=dict(
            type='VOC',
            data_root=data_root,
            split='train',
            pipeline=_base_.train_pipeline)))

val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='VOC',
        data_root=data_root,
        split='val',
        test_mode=True,
        # the VOC metric needs gt_label_difficult
        pipeline=_base_.resized + [
            dict(
                type='PackInputs',
                meta_keys=('sample_idx', 'img_path', 'ori_shape', 'img_shape',
                           'gt_label_difficult'))
        ]))
val_evaluator = [dict(type='VOCAveragePrecision')]
val_cfg = dict()
test_dataloader = val_dataloader
test_evaluator = val_evaluator
test_cfg = dict()
