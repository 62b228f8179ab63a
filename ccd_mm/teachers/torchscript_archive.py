"""TorchScript archives, as OpenAI releases its CLIP weights (``RN50x64.pt``).

``torch.load(weights_only=True)`` refuses them, and with
``weights_only=False`` it decides by itself between TorchScript's loader and
full unpickling, from the magic at the file's start. A pickle with a zip
appended looks like an archive to Python's ``zipfile`` (which finds the zip
directory at the end) but is unpickled in full by ``torch.load``. The
teacher therefore recognises an archive strictly and reads it with
``torch.jit.load`` only, which never falls back to Python's pickle.
"""
import zipfile
from typing import Dict

import torch
from torch import Tensor

# What every zip file, and so every archive torch.jit.save writes, starts
# with: a local file header.
ZIP_LOCAL_HEADER_MAGIC = b'PK\x03\x04'
# The records torch.jit.save writes into the archive's one top-level folder,
# besides ``code/`` (the TorchScript source) and ``data/`` (the tensors).
TORCHSCRIPT_RECORDS = ('constants.pkl', 'data.pkl')
# Attributes of OpenAI's scripted CLIP that its state_dict lists beside the
# weights; open_clip drops them too.
OPENAI_NON_WEIGHTS = ('input_resolution', 'context_length', 'vocab_size')


def _starts_with_zip_header(path: str) -> bool:
    with open(path, 'rb') as file:
        return file.read(len(ZIP_LOCAL_HEADER_MAGIC)) == ZIP_LOCAL_HEADER_MAGIC


def _has_torchscript_layout(archive: zipfile.ZipFile) -> bool:
    """One top-level folder holding TorchScript's records and code, and the
    first member at the very start of the file (no data in front)."""
    members = archive.infolist()
    if not members or min(m.header_offset for m in members) != 0:
        return False
    roots = {member.filename.split('/', 1)[0] for member in members}
    if len(roots) != 1:
        return False
    root = roots.pop()
    names = set(archive.namelist())
    return all(f'{root}/{record}' in names
               for record in TORCHSCRIPT_RECORDS) and any(
                   name.startswith(f'{root}/code/') for name in names)


def is_torchscript_archive(path: str) -> bool:
    """Whether ``path`` is a TorchScript archive, as OpenAI's own ``.pt``:
    a zip file from its first byte, laid out as ``torch.jit.save`` writes.

    Args:
        path (str): an existing file.

    Returns:
        bool: True for an archive of ``torch.jit.save``; False for any other
        file, a ``torch.save`` zip and a file with data before a zip
        included.
    """
    if not _starts_with_zip_header(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return _has_torchscript_layout(archive)
    except zipfile.BadZipFile:
        return False


def torchscript_state_dict(path: str) -> Dict[str, Tensor]:
    """The weights of a TorchScript archive, read by ``torch.jit.load``
    (TorchScript's own loader, not Python's pickle), on the CPU.

    Args:
        path (str): a file for which :func:`is_torchscript_archive` holds.

    Returns:
        dict: the scripted module's state dict without OpenAI's
        ``OPENAI_NON_WEIGHTS``.
    """
    state_dict = torch.jit.load(path, map_location='cpu').state_dict()
    return {
        name: value
        for name, value in state_dict.items() if name not in OPENAI_NON_WEIGHTS
    }
