# CCD on ShapesML's training images read as a plain folder, as your own
# images would be (../_base_/datasets/folder.py): no annotation file, the
# class names from a text file, no labelled split. The method is
# ccd_shapesml.py's (the released script's method values), whose adaptive t
# needs no labels; the label-free rule chooses the checkpoint.
_base_ = ['./ccd_shapesml.py']

train_dataloader = dict(
    dataset=dict(
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
