# CCD (CVPR 2025) on PASCAL VOC 2007 (trainval labeled by CLIP, test
# evaluated), with the paper's settings (_base_/methods/ccd_paper.py; the table
# in README.md). Published mAP 91.0 (CCD Table 1).
_base_ = ['_base_/datasets/voc07.py', '_base_/methods/ccd_paper.py']

model = dict(head=dict(num_classes=_base_.num_classes))
train_dataloader = dict(dataset=_base_.pseudo_label_dataset)
