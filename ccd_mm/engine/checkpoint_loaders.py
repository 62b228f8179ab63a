"""How checkpoint files are opened once ccd_mm is imported: safely by
default, in full only when asked by name.

A local path, the way mmengine loads ``load_from``, ``--resume``, the
``Pretrained`` init and the inferencers' weights, is read with
``torch.load(weights_only=True)``: tensors and plain containers are built,
no other Python object is called. Checkpoints that mmengine writes also hold
a few numpy and mmengine types in ``meta`` and ``message_hub`` (the logged
scalars' history buffers); exactly those are allowed
(``CHECKPOINT_SAFE_GLOBALS``), so a checkpoint of a ccd_mm run loads in every
tool with no scheme, and any other pickled object is refused before it runs,
with a message that names the file.

Full unpickling runs whatever code a file contains. It happens only for a
path that starts with ``trusted://``, written by the user::

    load_from = 'trusted://work_dirs/old_run/epoch_3.pth'
    python tools/test.py CONFIG trusted://other/model.pth
"""
import os.path as osp
import pickle
import zipfile
from typing import Callable, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

from ccd_mm.models.weight_file_errors import (TRUSTED_SCHEME, trust_advice,
                                              weights_only_refusal)

_NUMPY_RECONSTRUCT = np.zeros(0).__reduce__()[0]
_NUMPY_SCALAR = np.float64(0).__reduce__()[0]
# Plain numbers only: an object array could carry any pickled object.
_NUMPY_DTYPES = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                 np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                 np.float64)


def _history_buffer_method(owner: type, name: str) -> Callable:
    """The one ``getattr`` a checkpoint may call: a ``HistoryBuffer``
    pickles its statistics methods as ``getattr(HistoryBuffer, name)``."""
    if owner is not HistoryBuffer or name.startswith('_'):
        raise pickle.UnpicklingError(
            f'getattr({owner!r}, {name!r}) is not a HistoryBuffer method')
    return getattr(HistoryBuffer, name)


# What mmengine writes besides tensors, found by loading the checkpoints of
# ccd_mm's runs: the message hub's HistoryBuffers hold numpy arrays and
# statistics methods, its runtime info numpy scalars. numpy < 2 named its
# reconstructors ``numpy.core.multiarray.*``.
CHECKPOINT_SAFE_GLOBALS = [
    HistoryBuffer, (_history_buffer_method, 'builtins.getattr'), np.ndarray,
    np.dtype, _NUMPY_RECONSTRUCT, _NUMPY_SCALAR,
    (_NUMPY_RECONSTRUCT, 'numpy.core.multiarray._reconstruct'),
    (_NUMPY_SCALAR, 'numpy.core.multiarray.scalar')
] + [type(np.dtype(scalar_type)) for scalar_type in _NUMPY_DTYPES]

KILLED_WRITE_ADVICE = ('a run killed while writing it leaves such a file '
                       'behind: use an earlier checkpoint')


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint file holds objects that loading it would have to run."""


def load_checkpoint_file(
        path: str,
        map_location: Optional[Union[str, Callable]] = None) -> dict:
    """Read a checkpoint without running code from it.

    Args:
        path (str): A local checkpoint file.
        map_location (str | Callable, optional): Same as in ``torch.load``.
            Defaults to None.

    Returns:
        dict: The checkpoint as saved.

    Raises:
        UntrustedCheckpointError: the file holds other objects than tensors,
            plain containers and ``CHECKPOINT_SAFE_GLOBALS``; nothing of it
            ran. The message names the file and how to trust it.
        ValueError: the file is empty, truncated or corrupt (a run killed
            while writing it); the message names it.
    """
    try:
        with torch.serialization.safe_globals(CHECKPOINT_SAFE_GLOBALS):
            return torch.load(
                path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise UntrustedCheckpointError(
            f'{path} is not a checkpoint that loads without running code '
            f'({weights_only_refusal(error)}); {trust_advice(path)}') from None
    except EOFError:
        raise ValueError(f'{path} is empty or truncated: not a checkpoint; '
                         f'{KILLED_WRITE_ADVICE}') from None
    except (RuntimeError, OSError) as error:
        # A whole zip archive failed on its content (a map_location, say);
        # an incomplete one is a file whose write did not finish.
        if zipfile.is_zipfile(path):
            raise
        detail = ' '.join(f'{type(error).__name__}: {error}'.split())
        raise ValueError(
            f'{path} is truncated or corrupt ({detail}): not a checkpoint; '
            f'{KILLED_WRITE_ADVICE}') from None


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(
        filename: str,
        map_location: Optional[Union[str, Callable]] = None) -> dict:
    """mmengine's loader of local paths, replaced by one that runs no code
    from the file (:func:`load_checkpoint_file`).

    mmengine names the backend in its log from the function name after
    ``load_from_``: "Loads checkpoint by local backend", as before.

    Args:
        filename (str): A local file path.
        map_location (str | Callable, optional): Same as in ``torch.load``.
            Defaults to None.
    """
    path = osp.expanduser(filename)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} can not be found.')
    return load_checkpoint_file(path, map_location)


@CheckpointLoader.register_scheme(prefixes=TRUSTED_SCHEME)
def load_from_trusted(
        filename: str,
        map_location: Optional[Union[str, Callable]] = None) -> dict:
    """Load a local checkpoint with ``weights_only=False``: full unpickling,
    for files the user trusts and names with ``trusted://``.

    The log reads "Loads checkpoint by trusted backend".

    Args:
        filename (str): ``trusted://`` followed by a local file path.
        map_location (str | Callable, optional): Same as in ``torch.load``.
            Defaults to None.

    Returns:
        dict: The checkpoint as saved.
    """
    path = osp.expanduser(filename[len(TRUSTED_SCHEME):])
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} can not be found.')
    return torch.load(path, map_location=map_location, weights_only=False)
