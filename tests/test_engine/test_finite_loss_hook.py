"""A NaN loss stops the run before a checkpoint of it is saved."""
import math
import os

import pytest

from ccd_mm.engine.hooks import FiniteLossHook
from .tiny_runner import build_runner


def test_nan_loss_stops_before_the_epoch_checkpoint(tmp_path):
    # The third sample's target is NaN: iteration 2 (batches of 2) has a
    # NaN loss, and the epoch's checkpoint would be saved right after it.
    runner = build_runner(
        tmp_path,
        'nan_loss',
        max_epochs=2,
        targets=[0.0, 2.0, math.nan, 6.0],
        custom_hooks=[FiniteLossHook()])
    with pytest.raises(FloatingPointError) as error:
        runner.train()
    assert str(error.value).startswith(
        'the training loss is not finite at iteration 2 (epoch 1): loss nan')
    assert not [name for name in os.listdir(tmp_path) if name.endswith('.pth')]


def test_finite_losses_pass(tmp_path):
    runner = build_runner(
        tmp_path, 'finite', max_epochs=1, custom_hooks=[FiniteLossHook()])
    runner.train()
    assert os.path.exists(tmp_path / 'epoch_1.pth')
