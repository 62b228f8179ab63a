# CCD (CVPR 2025) on PASCAL VOC 2012 (train labeled by CLIP, val evaluated):
# the paper's ResNet-101 and teacher with the method values of the authors'
# released training script (_base_/methods/ccd.py; why, in README.md's configs
# table). The paper's own values: ccd_voc12_paper.py (published mAP 90.1, CCD
# Table 1).
_base_ = ['_base_/datasets/voc12.py', '_base_/methods/ccd.py']

model = dict(head=dict(num_classes=_base_.num_classes))
train_dataloader = dict(dataset=_base_.pseudo_label_dataset)
