# CDUL (ICCV 2023) on PASCAL VOC 2007 (trainval labeled by CLIP, test
# evaluated), with the paper's settings (_base_/methods/cdul_paper.py;
# docs/cdul.md). Published mAP 89.0 (CDUL Table 1).
_base_ = ['_base_/datasets/voc07.py', '_base_/methods/cdul_paper.py']

model = dict(head=dict(num_classes=_base_.num_classes))
# CDUL 4.1: batch 8 on both VOC datasets.
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        _base_.pseudo_label_dataset,
        dataset=dict(pipeline=_base_.one_view_train_pipeline)))
