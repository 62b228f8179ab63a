# CCD (CVPR 2025) on NUS-WIDE, 81 concepts (train labeled by CLIP, test
# evaluated): the paper's ResNet-101 and teacher with the method values of the
# authors' released training script (_base_/methods/ccd.py; why, in
# README.md's configs table). The paper's own values: ccd_nus_paper.py
# (published mAP 44.5, CCD Table 1).
_base_ = ['_base_/datasets/nus.py', '_base_/methods/ccd.py']

model = dict(head=dict(num_classes=_base_.num_classes))
train_dataloader = dict(dataset=_base_.pseudo_label_dataset)
