"""Pseudo-labels saved by a run: a label cache or a training checkpoint,
read back into a :class:`PseudoLabelTable` for reports and plots."""
from typing import Tuple

import torch
from mmengine.runner import CheckpointLoader

from ccd_mm.datasets import (CLIPPseudoLabelDataset, PseudoLabelTable,
                             TableMismatchError)
from ccd_mm.engine.checkpoint_loaders import TRUSTED_SCHEME
from ccd_mm.labeling.label_cache import (NotALabelCacheError,
                                         check_label_fields, read_label_cache)


def _saved_table(path: str) -> Tuple[dict, str]:
    """(the table state in a checkpoint, its description)."""
    # UntrustedCheckpointError (code in the file) passes through unchanged.
    try:
        checkpoint = CheckpointLoader.load_checkpoint(
            path, map_location='cpu', logger='silent')
    except (RuntimeError, ValueError) as error:
        raise ValueError(f'{path} is neither a label cache nor a checkpoint '
                         f'({error})') from error
    state = PseudoLabelTable.saved_state(checkpoint)
    if state is None:
        raise ValueError(
            f'{path} is neither a label cache nor a training checkpoint with '
            'a pseudo-label table')
    check_label_fields(state['fields'], f'the pseudo-label table of {path}')
    epoch = checkpoint.get('meta', {}).get('epoch')
    return state, f'checkpoint {path} (epoch {epoch})'


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
        state, source = _saved_table(path)
    else:
        try:
            payload = read_label_cache(path)
        except NotALabelCacheError:
            state, source = _saved_table(path)
        else:
            # A cache holds the initial labels of a table whose image list
            # has the cache's digest.
            state = dict(
                digest=payload['provenance']['image_list'],
                fields=dict(
                    payload['fields'],
                    labeled=torch.ones((), dtype=torch.bool)))
            source = f'label cache {path}'
    saved = state['fields']
    num_classes = len(dataset.metainfo['classes'])
    if saved['global_scores'].shape[1] != num_classes:
        raise ValueError(f'{source} has {saved["global_scores"].shape[1]} '
                         f'classes, the split {num_classes}')
    table = PseudoLabelTable(
        dataset.image_paths(), num_classes,
        [name for name in saved if name not in PseudoLabelTable.common_fields])
    try:
        table.check_image_list(state)
        for name, value in saved.items():
            table.write(name, value)
    except TableMismatchError as error:
        raise ValueError(f'the pseudo-labels of {source} do not fit this '
                         f'split: {error}') from error
    return table, source
