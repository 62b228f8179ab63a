"""Settings of a training run that would fail or mislead only once it runs,
checked before the teacher's pass over the training split."""
import glob
import os.path as osp
from typing import List

from mmengine.runner import Runner
from torch import nn

from ccd_mm.datasets import CLIPPseudoLabelDataset

# What a run leaves in its work dir besides the timestamped log folders.
RUN_OUTPUTS = ('*.pth', 'last_checkpoint', '*_epoch_*.json')


def check_classifier_classes(model: nn.Module,
                             dataset: CLIPPseudoLabelDataset) -> None:
    """The classifier predicts as many classes as the training split has.

    Raises:
        ValueError: naming the setting (``model.head.num_classes``, or the
            data preprocessor's) and the split's number of classes.
    """
    num_classes = len(dataset.metainfo['classes'])
    for part in ('head', 'data_preprocessor'):
        value = getattr(getattr(model, part, None), 'num_classes', None)
        if value is not None and value != num_classes:
            raise ValueError(
                f'model.{part}.num_classes is {value}, but the training '
                f'split ({type(dataset.dataset).__name__}) has {num_classes} '
                f'classes: set model.{part}.num_classes={num_classes}')


def earlier_run_outputs(work_dir: str) -> List[str]:
    """Checkpoints and records that some run wrote to ``work_dir``."""
    return sorted(
        osp.basename(path) for pattern in RUN_OUTPUTS
        for path in glob.glob(osp.join(work_dir, pattern)))


def warn_of_earlier_run(runner: Runner) -> None:
    """Warn that a run starting afresh writes next to an earlier run's
    checkpoints and records (and over those of the same name)."""
    found = earlier_run_outputs(runner.work_dir)
    if found:
        more = f' and {len(found) - 5} more' if len(found) > 5 else ''
        runner.logger.warning(
            f'The work dir {runner.work_dir} holds files of an earlier run: '
            f'{", ".join(found[:5])}{more}. This run writes next to them and '
            'over those of the same name; --resume continues that run, '
            'another --work-dir keeps them apart.')
