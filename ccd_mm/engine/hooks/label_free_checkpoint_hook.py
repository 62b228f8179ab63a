import os.path as osp
from typing import List, Optional

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.evaluation import AveragePrecision
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model

from ccd_mm.core.early_stop import binarize_saturated, label_free_stop_epoch
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
    ``== 1`` (the values the debias clamp saturated). With
    d_e = mAP_e - mAP_(e-1), the first epoch where d_e - d_(e-1) > 0 (the
    first local minimum of the mAP's gradient) is kept as ``filename`` in the
    work dir. If the rule never fires, the last epoch is kept and the log
    says so. The mAP goes to every vis backend as
    ``train/pseudo_label_mAP``.

    Only pseudo-labels are read: the split's ground truth never reaches this
    choice.

    Args:
        view_size (int): Side of the square view the classifier scores.
            Defaults to 448 (the paper's training resolution).
        batch_size (int): Images per forward. Defaults to 32.
        num_workers (int): Decoding workers. Defaults to 2.
        filename (str): Name of the chosen checkpoint.
            Defaults to 'best_label_free.pth'.
        record_scores (bool): Write the classifier's scores of the training
            images and their current targets after every epoch to
            ``label_free_scores_epoch_{e}.pth`` in the work dir (tensors
            only), so selection rules can be compared after the run.
            Defaults to False.
    """

    priority = 'LOW'

    def __init__(self,
                 view_size: int = 448,
                 batch_size: int = 32,
                 num_workers: int = 2,
                 filename: str = 'best_label_free.pth',
                 record_scores: bool = False):
        self.view_size = view_size
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.filename = filename
        self.record_scores = record_scores
        self.history: List[float] = []
        self.selected_epoch: Optional[int] = None

    def after_train_epoch(self, runner: Runner) -> None:
        dataset = find_pseudo_label_dataset(runner)
        with eval_mode(get_ori_model(runner.model)) as classifier:
            scores = classifier_scores(classifier, dataset.image_paths(),
                                       self.view_size, self.batch_size,
                                       self.num_workers,
                                       dataset.image_decoder)
        valid = dataset.label_table.valid
        current_targets = dataset.current_targets()
        if self.record_scores and is_main_process():
            torch.save(
                dict(scores=scores, targets=current_targets, valid=valid),
                osp.join(runner.work_dir,
                         f'label_free_scores_epoch_{runner.epoch + 1}.pth'))
        targets = binarize_saturated(current_targets[valid])
        value = pseudo_label_map(scores[valid], targets)
        self.history.append(value)
        runner.message_hub.update_scalar('train/pseudo_label_mAP', value)
        runner.logger.info(
            f'Pseudo-label mAP after epoch {runner.epoch + 1}: {value:.2f}')
        if self.selected_epoch is None and label_free_stop_epoch(
                self.history) == len(self.history) - 1:
            self._keep(runner, 'the gradient of the pseudo-label mAP passed '
                       'its first local minimum')

    def after_train(self, runner: Runner) -> None:
        if self.selected_epoch is None:
            self._keep(runner, 'the stopping rule never fired: last epoch')

    def _keep(self, runner: Runner, reason: str) -> None:
        # The history has one value per finished epoch; runner.epoch is
        # already past the last one in after_train.
        self.selected_epoch = len(self.history)
        runner.save_checkpoint(
            runner.work_dir,
            self.filename,
            save_optimizer=False,
            save_param_scheduler=False)
        runner.logger.info(f'Label-free selection: epoch '
                           f'{self.selected_epoch} saved as {self.filename} '
                           f'({reason})')

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        checkpoint[SELECTION_CHECKPOINT_KEY] = dict(
            history=list(self.history), selected_epoch=self.selected_epoch)

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        state = checkpoint.get(SELECTION_CHECKPOINT_KEY)
        if state is not None:
            self.history = list(state['history'])
            self.selected_epoch = state['selected_epoch']
