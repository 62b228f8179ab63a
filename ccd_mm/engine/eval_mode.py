from contextlib import contextmanager
from typing import Iterator

import torch


@contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """``model`` in eval mode and without gradients for a labeling pass run
    between training epochs (BatchNorm must neither use nor update batch
    statistics there); its previous mode is restored afterwards, also when
    the pass raises."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)
