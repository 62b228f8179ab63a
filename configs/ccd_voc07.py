# CCD (CVPR 2025) on PASCAL VOC 2007 (trainval labeled by CLIP, test
# evaluated): the paper's ResNet-101 and teacher with the method values of the
# authors' released training script (_base_/methods/ccd.py; why, in
# README.md's configs table). The paper's own values: ccd_voc07_paper.py
# (published mAP 91.0, CCD Table 1).
_base_ = ['_base_/datasets/voc07.py', '_base_/methods/ccd.py']

model = dict(head=dict(num_classes=_base_.num_classes))
train_dataloader = dict(dataset=_base_.pseudo_label_dataset)
