"""Pseudo-labels saved by a run: a label cache or a training checkpoint,
read back into a :class:`PseudoLabelTable` for reports and plots."""
from typing import Dict, Tuple

import torch
from mmengine.runner import CheckpointLoader
from torch import Tensor

from ccd_mm.datasets import CLIPPseudoLabelDataset
from ccd_mm.datasets.pseudo_label_table import (PseudoLabelTable,
                                                image_list_digest)
from ccd_mm.engine.checkpoint_loaders import TRUSTED_SCHEME
from ccd_mm.engine.hooks.clip_initial_label_hook import TABLE_CHECKPOINT_KEY
from ccd_mm.labeling.label_cache import (NotALabelCacheError,
                                         check_label_fields, read_label_cache)


def _table_from_cache(payload: dict) -> PseudoLabelTable:
    fields = payload['fields']
    num_images, num_classes = fields['global_scores'].shape
    table = PseudoLabelTable(num_images, num_classes,
                             payload['provenance']['image_list'])
    for name, value in fields.items():
        table.write(name, value)
    table.labeled.fill_(True)
    return table


def _table_from_checkpoint(path: str) -> Tuple[PseudoLabelTable, str]:
    # UntrustedCheckpointError (code in the file) passes through unchanged.
    try:
        checkpoint = CheckpointLoader.load_checkpoint(
            path, map_location='cpu', logger='silent')
    except (RuntimeError, ValueError) as error:
        raise ValueError(f'{path} is neither a label cache nor a checkpoint '
                         f'({error})') from error
    state = checkpoint.get(TABLE_CHECKPOINT_KEY) if isinstance(
        checkpoint, dict) else None
    if state is None:
        raise ValueError(
            f'{path} is neither a label cache nor a training checkpoint with '
            'a pseudo-label table')
    fields = state['fields']
    check_label_fields(fields, f'the pseudo-label table of {path}')
    num_images, num_classes = fields['global_scores'].shape
    # Fields beyond those every table has (e.g. CDUL's latent logits).
    common_fields = PseudoLabelTable(0, 0, '').fields
    table = PseudoLabelTable(
        num_images, num_classes, state['digest'],
        [name for name in fields if name not in common_fields])
    table.load_state_dict(state)
    epoch = checkpoint.get('meta', {}).get('epoch')
    return table, f'checkpoint {path} (epoch {epoch})'


def load_pseudo_labels(
        path: str,
        dataset: CLIPPseudoLabelDataset) -> Tuple[PseudoLabelTable, str]:
    """The pseudo-label table saved in ``path`` for ``dataset``'s split.

    Args:
        path (str): a label cache (``tools/make_pseudo_labels.py``) or a
            training checkpoint, whose table also holds the CAM label
            update; both are read without running code from them, and only
            ``trusted://PATH`` unpickles a checkpoint in full.
        dataset (CLIPPseudoLabelDataset): the split the labels must belong
            to.

    Returns:
        (table, description of the source).

    Raises:
        ValueError: the file holds no table, its values are not a
            teacher's (a changed cache), or the table was made for another
            image list or number of classes.
    """
    if path.startswith(TRUSTED_SCHEME):
        table, source = _table_from_checkpoint(path)
    else:
        try:
            payload = read_label_cache(path)
        except NotALabelCacheError:
            table, source = _table_from_checkpoint(path)
        else:
            table, source = _table_from_cache(payload), f'label cache {path}'
    digest = image_list_digest(dataset.image_paths())
    if table.digest != digest:
        raise ValueError(
            f'the pseudo-labels of {source} belong to another image list '
            f'(digest {table.digest}, this split {digest})')
    num_classes = len(dataset.metainfo['classes'])
    if table.num_classes != num_classes:
        raise ValueError(f'{source} has {table.num_classes} classes, the '
                         f'split {num_classes}')
    return table, source


def pseudo_label_stages(table: PseudoLabelTable,
                        target_transform) -> Dict[str, Tensor]:
    """The labels of every image at each stage of CCD, in order.

    - ``initial``: the teacher's raw global-view probabilities (CCD 3.1).
    - ``debiased``: the training target before any label update, as
      ``target_transform`` forms it (``DebiasPseudoLabel``: CCD 3.3).
    - ``updated``: the target after the CAM label update (CCD 3.2, Eq. 7);
      only when the table holds one (a checkpoint past the update).

    Args:
        table (PseudoLabelTable): the saved table (left unchanged).
        target_transform: the dataset's target transform (its
            ``batch_targets(table)``).
    """
    stages = dict(initial=table.global_scores.clone())
    update_epoch = int(table.update_epoch)
    table.update_epoch.fill_(-1)
    try:
        stages['debiased'] = target_transform.batch_targets(table)
    finally:
        table.update_epoch.fill_(update_epoch)
    if update_epoch >= 0:
        stages['updated'] = target_transform.batch_targets(table)
    return {
        name: torch.as_tensor(value).float()
        for name, value in stages.items()
    }
