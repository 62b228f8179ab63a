"""Files that run code when unpickled: the probes of the safe loaders.

Each writes a checkpoint-looking file whose unpickling calls ``open(marker,
'w')``; a loader that runs no code leaves ``marker`` absent.
"""
import pickle
from pathlib import Path

import torch

FORMATS = ('zip', 'legacy', 'plain')


class CreatesFile:
    """Unpickles to ``open(marker, 'w')``: a visible side effect."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, 'w')


def write_code_running_checkpoint(path: Path,
                                  marker: Path,
                                  file_format: str = 'zip') -> Path:
    """An mmengine-like checkpoint with a code-running object in ``meta``.

    Args:
        file_format: ``'zip'`` (torch's default), ``'legacy'`` (torch's
            pre-1.6 format) or ``'plain'`` (a bare pickle).
    """
    content = dict(
        meta=dict(epoch=1, payload=CreatesFile(marker)),
        state_dict=dict(weight=torch.zeros(2)))
    if file_format == 'plain':
        with open(path, 'wb') as file:
            pickle.dump(content, file)
    else:
        torch.save(
            content, path, _use_new_zipfile_serialization=file_format == 'zip')
    return path
