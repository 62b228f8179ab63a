"""The label-free selection keeps the epoch its rule names, saving it when
that epoch ends (so the checkpoint's meta names it), and says when a
stopping rule fell back to the last epoch."""
from types import SimpleNamespace
from unittest import mock

import pytest
from mmpretrain.registry import HOOKS

import ccd_mm  # noqa: F401  (registers the hooks)

# d = [10, 5, -20, 8, 2, 1]: the paper's rule fires at epoch 5 (1-based),
# the dip at the label update (epoch 4) makes it.
CURVE = [40., 50., 55., 35., 43., 45., 46.]


def _run(rule, curve=CURVE, update_epochs=(3, ), record_scores=True):
    """Feed the curve epoch by epoch; return the saved epochs (meta) and
    the runner (``runner.scored``: how often the train split was scored)."""
    hook = HOOKS.build(
        dict(
            type='LabelFreeCheckpointHook',
            rule=rule,
            record_scores=record_scores))
    saved = []
    runner = SimpleNamespace(
        epoch=0,
        max_epochs=len(curve),
        work_dir='work',
        logger=mock.Mock(),
        message_hub=mock.Mock(),
        hooks=[SimpleNamespace(update_epochs=update_epochs), hook])
    runner.save_checkpoint = mock.Mock(
        side_effect=lambda *args, **kwargs: saved.append(runner.epoch + 1))
    runner.scored = mock.Mock(side_effect=list(curve))
    with mock.patch.object(hook, '_pseudo_label_map', runner.scored):
        for epoch in range(len(curve)):
            runner.epoch = epoch
            hook.after_train_epoch(runner)
    return hook, saved, runner


@pytest.mark.parametrize(
    'rule, saved_epochs',
    [
        ('paper', [5]),
        ('paper_after_update', [7]),  # never fires from epoch 4 on
        ('best_after_update', [4, 5, 6, 7]),  # every new best from epoch 4
        ('last', [7]),
    ])
def test_each_rule_saves_the_epoch_it_keeps(rule, saved_epochs):
    hook, saved, runner = _run(rule)
    assert saved == saved_epochs
    assert hook.selected_epoch == saved_epochs[-1]
    fell_back = any('never fired' in call.args[0]
                    for call in runner.logger.warning.call_args_list)
    assert fell_back == (rule == 'paper_after_update')


def test_without_a_label_update_the_whole_curve_counts():
    _, saved, _ = _run('best_after_update', update_epochs=())
    assert saved == [1, 2, 3]
    _, saved, _ = _run('paper_after_update', update_epochs=())
    assert saved == [5]


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match='rule'):
        HOOKS.build(dict(type='LabelFreeCheckpointHook', rule='median'))


def test_rule_last_scores_the_train_split_only_when_recording():
    hook, saved, runner = _run('last', record_scores=False)
    assert saved == [len(CURVE)]
    assert runner.scored.call_count == 0 and hook.history == []
    hook, saved, runner = _run('last', record_scores=True)
    assert saved == [len(CURVE)]
    assert runner.scored.call_count == len(CURVE) and hook.history == CURVE
