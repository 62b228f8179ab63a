# MS-COCO 2014 (80 classes) from the official instances_{train,val}2014.json:
# train2014 labeled by CLIP (82,081 images with annotations), val2014
# evaluated. Layout: docs/datasets.md.
_base_ = ['./ccd_views_448.py']

data_root = 'data/coco'
num_classes = 80
data_preprocessor = dict(num_classes=num_classes)

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CLIPPseudoLabelDataset',
        dataset=dict(
            type='COCOMultiLabel',
            data_root=data_root,
            split='train',
            pipeline=_base_.train_pipeline)))

val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='COCOMultiLabel',
        data_root=data_root,
        split='val',
        # the papers evaluate on the 40,137 val images with annotations
        keep_unannotated=False,
        test_mode=True,
        pipeline=_base_.test_pipeline))
val_evaluator = [dict(type='AveragePrecision')]
val_cfg = dict()
test_dataloader = val_dataloader
test_evaluator = val_evaluator
test_cfg = dict()
