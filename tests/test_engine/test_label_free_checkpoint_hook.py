"""When CCD 4.1's stopping rule never fires, the last epoch is kept and
reported by its number (mmengine's runner.epoch is already past it)."""
from types import SimpleNamespace
from unittest import mock

from mmpretrain.registry import HOOKS

import ccd_mm  # noqa: F401  (registers the hooks)


def test_rule_never_fired_keeps_and_names_the_last_epoch():
    hook = HOOKS.build(dict(type='LabelFreeCheckpointHook'))
    # A concave-up-free curve: the second difference never turns positive.
    hook.history = [10., 20., 29., 37., 44.]
    runner = SimpleNamespace(epoch=5, work_dir='work', logger=mock.Mock(),
                             save_checkpoint=mock.Mock())
    hook.after_train(runner)
    assert hook.selected_epoch == 5
    runner.save_checkpoint.assert_called_once()
    assert 'epoch 5 saved' in runner.logger.info.call_args[0][0]
