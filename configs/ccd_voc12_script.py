# CCD on PASCAL VOC 2012 (train labeled by CLIP, val evaluated), with the
# values of the authors' released training script where they differ from the
# paper (_base_/methods/ccd_script.py).
_base_ = ['_base_/datasets/voc12.py', '_base_/methods/ccd_script.py']

model = dict(head=dict(num_classes=_base_.num_classes))
train_dataloader = dict(dataset=_base_.pseudo_label_dataset)
