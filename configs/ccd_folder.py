# CCD on a folder of your own images with your own class names
# (_base_/datasets/folder.py), with the defaults' method
# (_base_/methods/ccd.py: the released script's method values), whose
# adaptive t needs no labels.
# No labelled split: the label-free rule chooses the checkpoint
# (best_label_free.pth) and nothing is evaluated.
_base_ = ['_base_/datasets/folder.py', '_base_/methods/ccd.py']

model = dict(head=dict(num_classes=_base_.num_classes))
train_dataloader = dict(dataset=_base_.pseudo_label_dataset)
default_hooks = dict(
    # Boxes of 8 images go to cam_boxes_epoch_3.json for tools/visualize.py.
    label_update=dict(record_boxes=8))
