# NUS-WIDE (81 concepts) from the official distribution files: the 81-concept
# train split labeled by CLIP, the test split evaluated. Layout:
# docs/datasets.md. The prompts say "a photo of a {}" as CCD does for
# NUS-WIDE (to match CDUL's pseudo-label quality, CCD 4.1).
_base_ = ['./ccd_views_448.py']

data_root = 'data/nus_wide'
num_classes = 81
data_preprocessor = dict(num_classes=num_classes)

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CLIPPseudoLabelDataset',
        prompt_templates=('a photo of a {}.', ),
        dataset=dict(
            type='NUSWIDE',
            data_root=data_root,
            split='train',
            pipeline=_base_.train_pipeline)))

val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='NUSWIDE',
        data_root=data_root,
        split='test',
        test_mode=True,
        pipeline=_base_.test_pipeline))
val_evaluator = [dict(type='AveragePrecision')]
val_cfg = dict()
test_dataloader = val_dataloader
test_evaluator = val_evaluator
test_cfg = dict()
