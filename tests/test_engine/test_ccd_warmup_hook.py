"""CCDWarmupHook sets the head's phase from the epoch at every epoch start."""
from types import SimpleNamespace

import torch

from ccd_mm.engine.hooks import CCDWarmupHook


def phases(hook: CCDWarmupHook, epochs: int) -> list:
    """(consistency_active, cam_scale_on) of the head at the start of each
    epoch."""
    head = SimpleNamespace(
        consistency_active=False, cam_scale_on=torch.tensor(False))
    runner = SimpleNamespace(model=SimpleNamespace(head=head), epoch=0)
    seen = []
    for epoch in range(epochs):
        runner.epoch = epoch
        hook.before_train_epoch(runner)
        seen.append((head.consistency_active, bool(head.cam_scale_on)))
    return seen


def test_consistency_starts_after_the_warmup():
    assert phases(CCDWarmupHook(warmup_epochs=2), 4) == [(False, False),
                                                         (False, False),
                                                         (True, False),
                                                         (True, False)]


def test_consistency_off_for_the_whole_run():
    hook = CCDWarmupHook(warmup_epochs=2, consistency=False)
    assert [active for active, _ in phases(hook, 4)] == [False] * 4


def test_cam_scale_from_its_own_epoch():
    hook = CCDWarmupHook(
        warmup_epochs=2, cam_scale_from_epoch=1, consistency=False)
    assert phases(hook, 3) == [(False, False), (False, True), (False, True)]
