# CCD (CVPR 2025) on MS-COCO 2014 (train2014 labeled by CLIP, val2014
# evaluated), with the paper's settings (_base_/methods/ccd_paper.py; the table
# in README.md). Published mAP 70.3 (CCD Table 1).
_base_ = ['_base_/datasets/coco.py', '_base_/methods/ccd_paper.py']

model = dict(head=dict(num_classes=_base_.num_classes))
train_dataloader = dict(dataset=_base_.pseudo_label_dataset)
