# CDUL (ICCV 2023) on MS-COCO 2014 (train2014 labeled by CLIP, val2014
# evaluated), with the paper's settings (_base_/methods/cdul_paper.py;
# docs/cdul.md). Published mAP 69.2 (CDUL Table 1).
_base_ = ['_base_/datasets/coco.py', '_base_/methods/cdul_paper.py']

model = dict(head=dict(num_classes=_base_.num_classes))
# CDUL 4.1: batch 16 on COCO and NUS-WIDE.
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        _base_.pseudo_label_dataset,
        dataset=dict(pipeline=_base_.one_view_train_pipeline)))
auto_scale_lr = dict(base_batch_size=16)
