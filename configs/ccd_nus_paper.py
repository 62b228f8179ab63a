# CCD (CVPR 2025) on NUS-WIDE, 81 concepts (train labeled by CLIP, test
# evaluated), with the paper's settings (_base_/methods/ccd_paper.py; the table
# in README.md). Published mAP 44.5 (CCD Table 1).
_base_ = ['_base_/datasets/nus.py', '_base_/methods/ccd_paper.py']

model = dict(head=dict(num_classes=_base_.num_classes))
train_dataloader = dict(dataset=_base_.pseudo_label_dataset)
