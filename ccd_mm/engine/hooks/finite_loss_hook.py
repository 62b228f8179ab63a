from typing import Optional

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Stop training at the first iteration whose loss is NaN or infinite.

    NaN weights score every image alike, so a run that went on would still
    select and save checkpoints (``best_label_free.pth``) of a model that
    predicts nothing. This hook raises at once, before any checkpoint of
    that state is written, naming the iteration and the loss terms; every
    rank stops at the same iteration. (mmengine's ``CheckInvalidLossHook``
    looks every 50 iterations by default, after checkpoints may be saved.)

    Args:
        None.
    """

    # Before CheckpointHook, which may save after the same iteration.
    priority = 'VERY_HIGH'

    def after_train_iter(self,
                         runner: Runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        losses = {
            name: torch.as_tensor(value).detach().float()
            for name, value in (outputs or {}).items() if 'loss' in name
        }
        bad = {
            name: value.item()
            for name, value in losses.items()
            if not torch.isfinite(value).all()
        }
        any_rank = torch.tensor(float(bool(bad)))
        all_reduce(any_rank)
        if any_rank.item() == 0:
            return
        terms = ', '.join(
            f'{name} {value}'
            for name, value in bad.items()) or ('on another rank')
        raise FloatingPointError(
            f'the training loss is not finite at iteration {runner.iter + 1} '
            f'(epoch {runner.epoch + 1}): {terms}. Training stops here, '
            'before a checkpoint of this state is saved (the weights may be '
            'NaN already); a learning rate too high for the model is the '
            'usual cause.')
