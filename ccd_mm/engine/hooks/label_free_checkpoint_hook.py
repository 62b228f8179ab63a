import os.path as osp
from typing import List, Optional

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.evaluation import AveragePrecision
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model

from ccd_mm.core.early_stop import (SELECTION_RULES, binarize_saturated,
                                    select_epoch)
from ccd_mm.labeling import classifier_scores
from ..eval_mode import eval_mode
from ..pseudo_label_dataset_lookup import find_pseudo_label_dataset

SELECTION_CHECKPOINT_KEY = 'label_free_selection'


def pseudo_label_map(scores: torch.Tensor, targets: torch.Tensor) -> float:
    """mAP (%) of classifier scores against binary pseudo-labels, over the
    classes that have at least one positive (an empty class would count 0
    and only shift the curve)."""
    present = targets.sum(0) > 0
    if not present.any():
        return 0.0
    return float(
        AveragePrecision.calculate(scores[:, present], targets[:, present]))


@HOOKS.register_module()
class LabelFreeCheckpointHook(Hook):
    """Choose the checkpoint without any ground truth (CCD 4.1).

    After every epoch the classifier scores the training images and the
    pseudo-label mAP is computed against the current targets binarised at
    ``== 1`` (the values the debias clamp saturated); it goes to every vis
    backend as ``train/pseudo_label_mAP``. The rule ``'last'`` does not read
    that curve, so with it (and without ``record_scores``) the training
    images are not scored: a pass over the train split each epoch, about a
    tenth of a ShapesML run, is saved. A selection rule
    (:func:`ccd_mm.core.select_epoch`) reads that curve and the epoch it
    keeps is saved as ``filename`` in the work dir, when that epoch ends,
    so the checkpoint's ``meta['epoch']`` is the kept epoch:

    - ``'paper'``: the first epoch where the gradient of the curve passes a
      local minimum, d_e - d_(e-1) > 0 with d_e = mAP_e - mAP_(e-1) (CCD
      4.1).
    - ``'paper_after_update'``: the same rule on the curve from the last
      label update on (the curve jumps at an update because its targets
      change).
    - ``'best_after_update'``: the highest pseudo-label mAP from the last
      label update on (the latest on ties).
    - ``'last'``: the last epoch.

    The label update's epochs are read from the runner's hooks (any hook
    with ``update_epochs``, i.e. ``CAMLabelUpdateHook``); without one the
    whole curve counts. When a stopping rule has not fired by the last
    epoch, the last epoch is kept and a warning says so. Only pseudo-labels
    are read: the split's ground truth never reaches this choice.

    Args:
        view_size (int): Side of the square view the classifier scores.
            Defaults to 448 (the paper's training resolution).
        batch_size (int): Images per forward. Defaults to 32.
        num_workers (int): Decoding workers. Defaults to 2.
        filename (str): Name of the chosen checkpoint.
            Defaults to 'best_label_free.pth'.
        rule (str): The selection rule, see above. Defaults to 'last', the
            rule with the lowest regret measured on ShapesML (docs/results.md:
            the paper's rule kept epoch 3-5 of 6, on average 3.4 mAP below
            the last); 'paper' is CCD 4.1's.
        record_scores (bool): Write the classifier's scores of the training
            images and their current targets after every epoch to
            ``label_free_scores_epoch_{e}.pth`` in the work dir (tensors
            only) and compute the curve whatever the rule, so selection
            rules can be compared after the run. Defaults to False.
    """

    priority = 'LOW'

    def __init__(self,
                 view_size: int = 448,
                 batch_size: int = 32,
                 num_workers: int = 2,
                 filename: str = 'best_label_free.pth',
                 rule: str = 'last',
                 record_scores: bool = False):
        if rule not in SELECTION_RULES:
            raise ValueError(f'rule must be one of {SELECTION_RULES}, got '
                             f'{rule!r}')
        self.view_size = view_size
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.filename = filename
        self.rule = rule
        self.record_scores = record_scores
        self.history: List[float] = []
        self.selected_epoch: Optional[int] = None

    def after_train_epoch(self, runner: Runner) -> None:
        is_last = runner.epoch + 1 >= runner.max_epochs
        if self.rule != 'last' or self.record_scores:
            value = self._pseudo_label_map(runner)
            self.history.append(value)
            runner.message_hub.update_scalar('train/pseudo_label_mAP', value)
            runner.logger.info(f'Pseudo-label mAP after epoch '
                               f'{runner.epoch + 1}: {value:.2f}')
        if self.rule == 'last':
            if is_last:
                self._keep(runner, 'the last epoch')
            return
        epoch = len(self.history) - 1
        first = self._first_epoch(runner)
        kept, fired = select_epoch(self.history, self.rule, first)
        if kept != epoch:
            return
        if self.rule == 'best_after_update':
            if epoch >= first or is_last:
                self._keep(
                    runner, 'the highest pseudo-label mAP since the '
                    'label update so far')
        elif self.selected_epoch is None:
            if fired:
                self._keep(
                    runner, 'the gradient of the pseudo-label mAP '
                    'passed its first local minimum')
            elif is_last:
                runner.logger.warning(
                    f'Label-free selection: rule {self.rule!r} never '
                    'fired; falling back to the last epoch')
                self._keep(
                    runner, f'rule {self.rule!r} fell back to the '
                    'last epoch')

    def _pseudo_label_map(self, runner: Runner) -> float:
        dataset = find_pseudo_label_dataset(runner)
        with eval_mode(get_ori_model(runner.model)) as classifier:
            scores = classifier_scores(classifier, dataset.image_paths(),
                                       self.view_size, self.batch_size,
                                       self.num_workers, dataset.image_decoder)
        valid = dataset.label_table.valid
        current_targets = dataset.current_targets()
        if self.record_scores and is_main_process():
            torch.save(
                dict(scores=scores, targets=current_targets, valid=valid),
                osp.join(runner.work_dir,
                         f'label_free_scores_epoch_{runner.epoch + 1}.pth'))
        targets = binarize_saturated(current_targets[valid])
        return pseudo_label_map(scores[valid], targets)

    @staticmethod
    def _first_epoch(runner: Runner) -> int:
        """The epoch of the last label update any hook schedules (0: none)."""
        epochs = [
            epoch for hook in runner.hooks
            for epoch in getattr(hook, 'update_epochs', ())
        ]
        return max(epochs, default=0)

    def _keep(self, runner: Runner, reason: str) -> None:
        self.selected_epoch = runner.epoch + 1
        runner.save_checkpoint(
            runner.work_dir,
            self.filename,
            save_optimizer=False,
            save_param_scheduler=False)
        runner.logger.info(f'Label-free selection (rule {self.rule!r}): '
                           f'epoch {self.selected_epoch} saved as '
                           f'{self.filename} ({reason})')

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        checkpoint[SELECTION_CHECKPOINT_KEY] = dict(
            history=list(self.history),
            selected_epoch=self.selected_epoch,
            rule=self.rule)

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        state = checkpoint.get(SELECTION_CHECKPOINT_KEY)
        if state is not None:
            self.history = list(state['history'])
            self.selected_epoch = state['selected_epoch']
