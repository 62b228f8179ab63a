"""A trained classifier's weights loaded for evaluation or inference."""
import re

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
