"""tools/shapesml/pretrain_backbone.py: a few steps write a checkpoint that
the ShapesML config's ``init_cfg=Pretrained`` loads into its backbone."""
import importlib.util
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

import ccd_mm  # noqa: F401  (registers the components)
from ccd_mm.datasets.shapesml_generator import SHAPESML_VERSION

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location(
    'pretrain_backbone', REPO / 'tools/shapesml/pretrain_backbone.py')
pretrain_backbone = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pretrain_backbone)


def test_labelled_objects_stream_is_seeded():
    first = iter(pretrain_backbone.LabelledObjects(0, 2, 32))
    again = iter(pretrain_backbone.LabelledObjects(0, 2, 32))
    other = iter(pretrain_backbone.LabelledObjects(0, 3, 32))
    image, label = next(first)
    same_image, same_label = next(again)
    assert image.shape == (3, 32, 32) and 0 <= image.min() <= image.max() <= 1
    assert torch.equal(image, same_image) and label == same_label
    assert not torch.equal(image, next(other)[0])


def test_no_held_out_objects_is_refused_before_training(tmp_path):
    # Without held-out objects the accuracy of the report has no value; the
    # tool used to train and then fail unpacking an empty batch.
    with pytest.raises(SystemExit):
        pretrain_backbone.parse_args(
            ['--out', str(tmp_path / 'b.pth'), '--eval-images', '0'])


def test_checkpoint_initialises_the_config_backbone(tmp_path):
    out = tmp_path / 'backbone.pth'
    report = pretrain_backbone.main([
        '--out',
        str(out), '--steps', '3', '--batch-size', '4', '--image-size', '32',
        '--eval-images', '8'
    ])
    assert report['steps'] == 3 and 0 <= report['held_out_accuracy'] <= 1
    assert not (tmp_path / 'backbone.pth.tmp').exists()
    saved = torch.load(out, weights_only=True)  # tensors and plain types
    assert saved['meta']['seed'] == 0
    # The demo tells a backbone of another world version by this file.
    with open(f'{out}.json') as file:
        assert json.load(file) == saved['meta']
    assert saved['meta']['shapesml_version'] == SHAPESML_VERSION

    cfg = Config.fromfile(str(REPO / 'configs/shapes/ccd_shapesml.py'))
    cfg.model.backbone.init_cfg.checkpoint = str(out)
    model = MODELS.build(cfg.model)
    model.init_weights()
    for name, value in model.backbone.state_dict().items():
        assert torch.equal(value, saved['state_dict'][f'backbone.{name}'])
