"""Our components dropped into a stock mmpretrain config: the CSRA VOC07
config, with only the wrapper, a CAM head and the hooks added (the README's
mix-in example)."""
import os

import torch
from mmengine.config import Config
from mmpretrain.datasets.categories import VOC2007_CATEGORIES

from tests.fixtures.runner_names import runner_from_cfg
from tests.fixtures.voc_layout import every_class_split, write_voc

MIXIN_CONFIG = """
_base_ = ['mmpretrain::csra/resnet101-csra_1xb16_voc07-448px.py']
custom_imports = dict(imports=['ccd_mm'])
teacher = dict(type='CLIPTeacher', model_name='{model_name}',
               model_config='{model_config}', pretrained='not/placed/yet.pt')
train_dataloader = dict(dataset=dict(
    _delete_=True, type='CLIPPseudoLabelDataset',
    dataset=dict(type='VOC', data_root='{data_root}', split='trainval',
                 pipeline={{{{_base_.train_pipeline}}}})))
model = dict(head=dict(_delete_=True, type='CAMMultiLabelHead',
                       num_classes=20, in_channels=2048))
custom_hooks = [
    dict(type='CLIPInitialLabelHook'),
    dict(type='CAMLabelUpdateHook', update_epochs=(1, )),
    dict(type='LabelFreeCheckpointHook'),
]
"""

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def test_stock_config_trains_with_ccd_components(tmp_path, tiny_clip_resnet):
    data_root = tmp_path / 'VOC2007'
    write_voc(data_root,
              dict(trainval=every_class_split(0), test=every_class_split(100)))
    config_file = tmp_path / 'mixin.py'
    config_file.write_text(
        MIXIN_CONFIG.format(data_root=data_root, **tiny_clip_resnet))
    cfg = Config.fromfile(str(config_file))
    # Test-harness settings only: no ImageNet download, small views, CPU.
    cfg.model.backbone.init_cfg = None
    cfg.train_dataloader.dataset.dataset.pipeline[1].scale = 64
    cfg.merge_from_dict({
        # What `--cfg-options teacher.pretrained=...` does: every label hook
        # must see it (they read the top-level teacher).
        'teacher.pretrained': tiny_clip_resnet['pretrained'],
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'val_dataloader.num_workers': 0,
        'val_dataloader.dataset.data_root': str(data_root),
        'val_dataloader.dataset.pipeline.1.scale': 64,
        'train_cfg.max_epochs': 2,
        'work_dir': str(tmp_path / 'work'),
        'default_hooks.logger.interval': 1,
    })
    for hook in cfg.custom_hooks:
        hook.update(view_size=64, num_workers=0)
        if hook.type == 'CAMLabelUpdateHook':
            hook.update(crop_size=64, box_offset=8)
    runner = runner_from_cfg(cfg)
    runner.train()
    dataset = runner.train_dataloader.dataset
    table = dataset.label_table
    assert bool(table.labeled) and int(table.update_epoch) == 1
    assert table.local_scores.abs().sum() > 0
    assert os.path.exists(tmp_path / 'work' / 'best_label_free.pth')
    # The stock VOC split's annotations never reach the head: a sample
    # carries the teacher's updated label and no VOC label.
    served = dataset[0]['data_samples']
    assert 'gt_label' not in served and 'gt_label_difficult' not in served
    torch.testing.assert_close(served.gt_score, dataset.current_targets()[0])
    assert not torch.equal(
        dataset.current_targets(),
        dataset.target_transform.label_stages(table)['debiased'])
    # The stock evaluator scores the unwrapped test split: its samples keep
    # VOC's labels, difficult ones included.
    val_sample = runner.val_dataloader.dataset[4]['data_samples']
    assert val_sample.gt_label.tolist() == []
    assert val_sample.gt_label_difficult == [VOC2007_CATEGORIES.index('dog')]
    metrics = runner.val_loop.run()
    assert {'multi-label/mAP', 'multi-label/precision',
            'multi-label/recall'} <= set(metrics)
