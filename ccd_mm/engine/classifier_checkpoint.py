"""A trained classifier's weights and class names, checked against the
model and config they are used with for evaluation or inference."""
import re
from typing import List, Optional, Sequence

from torch import nn

from ccd_mm.models.weight_file_errors import state_dict_mismatch


class CheckpointMismatchError(ValueError):
    """A checkpoint whose weights do not fit the model it is loaded into."""


def load_classifier_weights(model: nn.Module, checkpoint, source: str) -> None:
    """Load every weight of ``model`` from a checkpoint, or refuse it.

    mmengine's ``load_checkpoint`` loads the weights that fit and logs the
    others: evaluated that way, a checkpoint of another model (a CLIP weight
    file, an 80-class head on a 12-class config) gives a number from random
    weights. Here any missing, unknown or reshaped weight is an error.

    Args:
        model (nn.Module): the classifier, unwrapped
            (``get_ori_model(runner.model)``).
        checkpoint: what ``CheckpointLoader.load_checkpoint`` read: a dict
            with a ``state_dict`` entry or a dict of weights.
        source (str): the file it came from, for the messages.

    Raises:
        CheckpointMismatchError: naming the file, the model and the first
            weights that differ.
    """
    state_dict = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else None
    if not isinstance(state_dict, dict):
        raise CheckpointMismatchError(
            f'{source} holds no weights (a dict of tensors or a "state_dict" '
            f'entry) but a {type(checkpoint).__name__}')
    # Weights saved from a DistributedDataParallel wrapper, as mmengine's
    # own loader accepts them.
    state_dict = {
        re.sub(r'^module\.', '', name): value
        for name, value in state_dict.items()
    }
    mismatch = state_dict_mismatch(model.state_dict(), state_dict)
    if mismatch is not None:
        raise CheckpointMismatchError(
            f'{source} is not a checkpoint of this {type(model).__name__}: '
            f'{mismatch}')
    model.load_state_dict(state_dict)


def stored_class_names(checkpoint) -> Optional[List[str]]:
    """The class names mmengine saved with a checkpoint
    (``meta['dataset_meta']['classes']``), or None for a file without."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    dataset_meta = meta.get('dataset_meta') if isinstance(meta, dict) else None
    classes = dataset_meta.get('classes') if isinstance(dataset_meta,
                                                        dict) else None
    return None if classes is None else list(classes)


def _name_at(names: List[str], index: int) -> str:
    return repr(names[index]) if index < len(names) else \
        f'absent (of {len(names)} names)'


def _first_difference(stored: List[str], expected: List[str]) -> str:
    """Where two lists of class names first differ, in words."""
    index = next(
        (i for i, (a, b) in enumerate(zip(stored, expected)) if a != b),
        min(len(stored), len(expected)))
    return (f'class {index} (0-based) is {_name_at(stored, index)} in the '
            f'checkpoint, {_name_at(expected, index)} in the config')


def check_class_names(checkpoint, model: nn.Module,
                      config_classes: Optional[Sequence[str]], source: str,
                      override: str) -> None:
    """Refuse a checkpoint whose stored class names are not the config's.

    The weights of a checkpoint fit any config with as many classes; a
    checkpoint trained on other classes (or in another order) would be
    evaluated against the wrong labels and print the wrong names.

    Args:
        checkpoint: what ``CheckpointLoader.load_checkpoint`` read.
        model (nn.Module): the classifier, unwrapped; its head's
            ``num_classes`` is how many names the checkpoint must store.
        config_classes (Sequence[str], optional): the class names of the
            config's dataset; None when it names none (nothing to compare).
        source (str): the checkpoint file, for the messages.
        override (str): the option that skips this check, for the messages.

    Raises:
        CheckpointMismatchError: the stored names do not fit the head, or
            differ from the config's; naming the first difference.
    """
    stored = stored_class_names(checkpoint)
    if stored is None:
        return
    num_classes = getattr(getattr(model, 'head', None), 'num_classes', None)
    if num_classes is not None and len(stored) != num_classes:
        raise CheckpointMismatchError(
            f'{source} stores {len(stored)} class names ({stored[:3]}...) '
            f'for a head of {num_classes} classes: not a checkpoint of this '
            f'config. {override} ignores the stored names.')
    if config_classes is not None and stored != list(config_classes):
        raise CheckpointMismatchError(
            f'{source} was trained on other class names than the config '
            f'gives: {_first_difference(stored, list(config_classes))}. '
            f'{override} ignores the stored names.')
