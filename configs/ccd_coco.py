# CCD (CVPR 2025) on MS-COCO 2014 (train2014 labeled by CLIP, val2014
# evaluated): the paper's ResNet-101 and teacher with the method values of the
# authors' released training script (_base_/methods/ccd.py; why, in
# README.md's configs table). The paper's own values: ccd_coco_paper.py
# (published mAP 70.3, CCD Table 1).
_base_ = ['_base_/datasets/coco.py', '_base_/methods/ccd.py']

model = dict(head=dict(num_classes=_base_.num_classes))
train_dataloader = dict(dataset=_base_.pseudo_label_dataset)
