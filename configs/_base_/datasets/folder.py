# A folder of your own images: no annotation file, no labelled split. Every
# image under `data_root`, in subfolders too, is labeled by CLIP with the
# class names of `classes` (mmpretrain's CustomDataset with
# with_label=False lists them: .jpg .jpeg .png .ppm .bmp .pgm .tif in any
# case, hidden files skipped, in sorted path order). Layout: docs/datasets.md.
# No split is evaluated: a labelled one, if there is one, is added as the
# other dataset bases give theirs (val_dataloader, val_evaluator, val_cfg).
_base_ = ['./ccd_views_448.py']

data_root = 'data/my_images'
# The class names as the teacher's prompts should say them ("a photo of the
# {}."), here an example to replace: a list, or the path of a text file with
# one name per line (then num_classes is its number of lines; a run whose
# head and class names disagree stops before the teacher runs).
classes = [
    'person', 'dog', 'cat', 'bird', 'car', 'bicycle', 'chair', 'potted plant'
]
num_classes = len(classes)
data_preprocessor = dict(num_classes=num_classes)

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CLIPPseudoLabelDataset',
        dataset=dict(
            type='CustomDataset',
            data_root=data_root,
            with_label=False,
            classes=classes,
            pipeline=_base_.train_pipeline)))
