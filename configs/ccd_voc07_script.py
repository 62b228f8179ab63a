# CCD on PASCAL VOC 2007 (trainval labeled by CLIP, test evaluated), with the
# values of the authors' released training script where they differ from the
# paper (_base_/methods/ccd_script.py).
_base_ = ['_base_/datasets/voc07.py', '_base_/methods/ccd_script.py']

model = dict(head=dict(num_classes=_base_.num_classes))
train_dataloader = dict(dataset=_base_.pseudo_label_dataset)
