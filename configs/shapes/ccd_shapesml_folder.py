# CCD on ShapesML's training images read as a plain folder, as your own
# images would be (../_base_/datasets/folder.py): no annotation file, the
# class names from a text file, no labelled split. The method is
# ccd_shapesml.py's with the released script's values
# (../_base_/methods/ccd_script_values.py), whose adaptive t needs no
# labels, but the teacher's normalisation: the ShapesML teacher was trained
# with CLIP's (the script's ImageNet one is its choice for OpenAI's RN50x64).
# The label-free rule chooses the checkpoint.
_base_ = ['./ccd_shapesml.py', '../_base_/methods/ccd_script_values.py']

default_hooks = _base_.ccd_script_values.default_hooks
model = _base_.ccd_script_values.model
optim_wrapper = _base_.ccd_script_values.optim_wrapper
train_dataloader = dict(
    dataset=dict(
        _base_.ccd_script_values.pseudo_label_dataset,
        dataset=dict(
            _delete_=True,
            type='CustomDataset',
            data_root=_base_.data_root,
            data_prefix='images/train',
            with_label=False,
            # One name per line, in ShapesML's class order.
            classes='configs/shapes/shapesml_classes.txt',
            pipeline=_base_.train_pipeline)))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
