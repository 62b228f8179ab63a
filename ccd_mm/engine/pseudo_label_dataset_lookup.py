from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpretrain.registry import DATASETS

from ccd_mm.datasets import CLIPPseudoLabelDataset


def find_pseudo_label_dataset(runner: Runner) -> CLIPPseudoLabelDataset:
    """The ``CLIPPseudoLabelDataset`` of the runner's training loader, also
    when another mmengine wrapper (e.g. ``RepeatDataset``) sits around it."""
    dataset = runner.train_dataloader.dataset
    while not isinstance(dataset, CLIPPseudoLabelDataset):
        if not hasattr(dataset, 'dataset'):
            raise TypeError(
                'the training dataset must be wrapped in '
                'CLIPPseudoLabelDataset for the CCD/CDUL hooks, got '
                f'{type(runner.train_dataloader.dataset).__name__}')
        dataset = dataset.dataset
    return dataset


def build_pseudo_label_dataset(cfg) -> CLIPPseudoLabelDataset:
    """The ``CLIPPseudoLabelDataset`` of a config's training split, built
    alone (without the wrappers around it, e.g. ``RepeatDataset``): the
    split the tools label, report on and plot.

    Args:
        cfg (mmengine.Config): a training config.
    """
    dataset_cfg = cfg.train_dataloader.dataset
    while dataset_cfg.get('type') != 'CLIPPseudoLabelDataset':
        if 'dataset' not in dataset_cfg:
            raise TypeError(
                'the config has no CLIPPseudoLabelDataset in '
                'train_dataloader.dataset: nothing is pseudo-labeled')
        dataset_cfg = dataset_cfg.dataset
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    return DATASETS.build(dataset_cfg)
