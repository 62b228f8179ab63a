# CDUL (ICCV 2023) on PASCAL VOC 2012 (train labeled by CLIP, val evaluated),
# with the paper's settings (_base_/methods/cdul_paper.py; docs/cdul.md).
# Published mAP 88.6 (CDUL Table 1).
_base_ = ['_base_/datasets/voc12.py', '_base_/methods/cdul_paper.py']

model = dict(head=dict(num_classes=_base_.num_classes))
# CDUL 4.1: batch 8 on both VOC datasets.
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        _base_.pseudo_label_dataset,
        dataset=dict(pipeline=_base_.one_view_train_pipeline)))
