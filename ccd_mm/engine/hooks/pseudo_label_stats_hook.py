from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.registry import HOOKS

from ccd_mm.core import pseudo_label_statistics
from ..pseudo_label_dataset_lookup import find_pseudo_label_dataset


@HOOKS.register_module()
class PseudoLabelStatsHook(Hook):
    """Log what the training targets look like at the start of every epoch.

    After the label hooks of the epoch have run (its priority is below
    ``CAMLabelUpdateHook``'s), the current targets of the decodable training
    images are summarised and sent to the message hub, hence to every vis
    backend (TensorBoard when configured): ``train/pseudo_labels_per_image``
    (classes at or above ``threshold``), ``train/pseudo_saturated_per_image``
    (labels equal to 1, the positives of the label-free selection, CCD 4.1)
    and ``train/pseudo_label_mean``. No ground truth is read.

    Args:
        threshold (float): A target counts as a label at ``>= threshold``.
            Defaults to 0.5.
    """

    priority = 'NORMAL'

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold

    def before_train_epoch(self, runner: Runner) -> None:
        dataset = find_pseudo_label_dataset(runner)
        targets = dataset.current_targets()[dataset.label_table.valid]
        stats = pseudo_label_statistics(targets, self.threshold)
        hub = runner.message_hub
        hub.update_scalar('train/pseudo_labels_per_image',
                          stats['labels_per_image'])
        hub.update_scalar('train/pseudo_saturated_per_image',
                          stats['saturated_per_image'])
        hub.update_scalar('train/pseudo_label_mean', stats['mean_value'])
        runner.logger.info(
            f'Pseudo-labels for epoch {runner.epoch + 1}: '
            f'{stats["labels_per_image"]:.2f} per image (>= '
            f'{self.threshold}), {stats["saturated_per_image"]:.2f} '
            f'saturated, mean {stats["mean_value"]:.3f}')
