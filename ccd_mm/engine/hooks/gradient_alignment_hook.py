import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model

from ccd_mm.core.gradient_alignment import (alignment_psi,
                                            gradient_alignment_step)
from ccd_mm.datasets.transforms import (INITIAL_LABELS_FIELD,
                                        LATENT_LOGITS_FIELD)
from ccd_mm.labeling import check_pass_arguments, classifier_scores
from ..eval_mode import eval_mode
from ..pseudo_label_dataset_lookup import find_pseudo_label_dataset


@HOOKS.register_module()
class GradientAlignmentHook(Hook):
    """CDUL's pseudo-label update: with the classifier fixed, one step of the
    latent label logits towards its predictions (CDUL Sec. 3.2, Eq. 7-8,
    supplementary Sec. 6.2).

    The classifier is trained on fixed labels for ``warmup_epochs`` epochs;
    from then on, at the start of every ``interval``-th epoch, it scores the
    whole of every training image (eval mode) and the latent logits take the
    step ``y~ <- y~ - psi(y) * dL/dy`` of ``gradient_alignment_step``, so
    labels near 0.5 move towards the predictions fast and confident ones
    barely move. Network and labels are thus updated by turns, one epoch of
    network training per label step (the paper does not state the period).
    The new logits are written into the label table in place: workers serve
    them at once, checkpoints carry them, a resumed run continues from them.
    Every rank computes the same step from the gathered scores.

    The mean absolute change of the labels is logged as
    ``train/label_change`` and their mean distance from ``S_final`` as
    ``train/label_drift``.

    Args:
        warmup_epochs (int): Epochs trained on the initial labels before the
            first step. CDUL 6.2: 3 (steps from the 4th epoch on).
        interval (int): Epochs between steps. Defaults to 1.
        c1 (float): Scale of psi's Gaussian (Sec. 6.2). Not given in the
            paper. Defaults to 0.25, which with ``sigma = 0.2`` puts
            ``psi(0.5)`` at 0.5: an uncertain label's logit moves halfway
            to the prediction's per step.
        sigma (float): Width of psi's Gaussian. Not given in the paper.
            Defaults to 0.2: psi(0.05) is 8 % of psi(0.5).
        c2 (float): Offset of psi, its value at confident labels (Sec. 6.2:
            "close to zero" at 0 and 1). Defaults to 0.0.
        gradient_wrt (str): ``'label'`` (Eq. 7 as printed) or ``'latent'``
            (chain rule through the sigmoid); see
            :func:`~ccd_mm.core.gradient_alignment.gradient_alignment_step`.
            Defaults to 'label'.
        view_size (int): Side of the square view the classifier scores
            (the whole image, as at inference, CDUL 3.3). Defaults to 448.
        batch_size (int): Images per forward. Defaults to 32.
        num_workers (int): Decoding workers. Defaults to 2.

    Raises:
        ValueError: with ``gradient_wrt='label'``, if ``psi(0.5) > 1``: the
            step would overshoot the prediction's logit.
    """

    def __init__(self,
                 warmup_epochs: int = 3,
                 interval: int = 1,
                 c1: float = 0.25,
                 sigma: float = 0.2,
                 c2: float = 0.0,
                 gradient_wrt: str = 'label',
                 view_size: int = 448,
                 batch_size: int = 32,
                 num_workers: int = 2):
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        if warmup_epochs < 0:
            raise ValueError(
                f'warmup_epochs must be >= 0, got {warmup_epochs}')
        check_pass_arguments(
            num_workers, view_size=view_size, batch_size=batch_size)
        psi_peak = float(alignment_psi(torch.tensor(0.5), c1, sigma, c2))
        if gradient_wrt == 'label' and psi_peak > 1:
            raise ValueError(
                f'psi(0.5) = {psi_peak:.3f} > 1 overshoots the prediction '
                "with gradient_wrt='label'; lower c1 or c2")
        self.warmup_epochs = warmup_epochs
        self.interval = interval
        self.c1 = c1
        self.sigma = sigma
        self.c2 = c2
        self.gradient_wrt = gradient_wrt
        self.view_size = view_size
        self.batch_size = batch_size
        self.num_workers = num_workers

    def before_train_epoch(self, runner: Runner) -> None:
        since_warmup = runner.epoch - self.warmup_epochs
        if since_warmup >= 0 and since_warmup % self.interval == 0:
            self.update(runner)

    def update(self, runner: Runner) -> None:
        """One alignment step of every valid image's latent label logits."""
        dataset = find_pseudo_label_dataset(runner)
        table = dataset.label_table
        with eval_mode(get_ori_model(runner.model)) as classifier:
            predictions = classifier_scores(classifier, dataset.image_paths(),
                                            self.view_size, self.batch_size,
                                            self.num_workers,
                                            dataset.image_decoder)
        latent = table.fields[LATENT_LOGITS_FIELD]
        labels = torch.sigmoid(latent)
        stepped = gradient_alignment_step(latent, predictions, self.c1,
                                          self.sigma, self.c2,
                                          self.gradient_wrt)
        # Undecodable images have no prediction (zero rows): keep theirs.
        valid = table.valid
        table.write(LATENT_LOGITS_FIELD,
                    torch.where(valid[:, None], stepped, latent))
        new_labels = torch.sigmoid(table.fields[LATENT_LOGITS_FIELD])
        change = float((new_labels - labels)[valid].abs().mean())
        drift = float((new_labels -
                       table.fields[INITIAL_LABELS_FIELD])[valid].abs().mean())
        runner.message_hub.update_scalar('train/label_change', change)
        runner.message_hub.update_scalar('train/label_drift', drift)
        runner.logger.info(
            f'Gradient alignment at epoch {runner.epoch + 1}: mean label '
            f'change {change:.4f}, mean distance from S_final {drift:.4f}')
