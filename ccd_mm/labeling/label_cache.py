"""Teacher labels of a training split saved once and reused by later runs.

A label cache holds what :class:`CLIPInitialLabelHook` computes before the
first epoch: the teacher's raw global-view probabilities, which images
decoded, the class bias and the confident flags (CCD 3.1, 3.3), together
with the provenance of those numbers. A run that points at a cache
(``CLIPInitialLabelHook(label_cache=...)``) checks every provenance field
against its own settings and refuses a cache made under others, naming the
field, so a cache can never silently label another dataset, teacher,
prompt set or resolution.

Provenance fields: ``teacher`` (open_clip model name), ``weights_sha256``
(hash of the weight file), ``class_prompts``, ``templates``, ``view_size``,
``normalization`` and ``image_list`` (:func:`image_list_digest` of the
ordered image paths).

Files are written atomically (a temporary file in the same directory,
fsync, ``os.replace``): a reader sees the old file or the new one, never a
half-written one. They are read with ``torch.load(weights_only=True)``: a
cache holds tensors, strings and numbers only.
"""
import hashlib
import inspect
import os
import os.path as osp
import pickle
import tempfile
from typing import Dict, Sequence, Tuple

import torch
from torch import Tensor

from ccd_mm.core.bias import confident_mask, estimate_clip_bias
from ccd_mm.datasets.pseudo_label_table import image_list_digest
from ccd_mm.teachers.clip_checkpoint import resolve_clip_checkpoint
from ccd_mm.teachers.clip_teacher import CLIPTeacher

LABEL_CACHE_FORMAT = 'ccd_mm.label_cache'
LABEL_CACHE_VERSION = 1
PROVENANCE_FIELDS = ('teacher', 'weights_sha256', 'class_prompts', 'templates',
                     'view_size', 'normalization', 'image_list')
# The label-table fields a cache carries, all set by the initial labeling.
CACHED_TABLE_FIELDS = ('global_scores', 'valid', 'bias', 'confident')


class LabelCacheMismatch(ValueError):
    """A label cache made under other settings than the run that reads it.

    Attributes:
        field (str): the first provenance field that differs.
    """

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def file_sha256(path: str, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks (CLIP weights reach GBs)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for chunk in iter(lambda: file.read(chunk_size), b''):
            digest.update(chunk)
    return digest.hexdigest()


def label_provenance(teacher: dict, view_size: int,
                     img_paths: Sequence[str]) -> dict:
    """What the teacher's scores of a split depend on.

    Args:
        teacher (dict): the complete ``CLIPTeacher`` config, class names and
            templates included (``CLIPPseudoLabelDataset.teacher_config``).
        view_size (int): side of the square global view.
        img_paths (Sequence[str]): the images, in dataset order.

    Returns:
        dict: one entry per name of ``PROVENANCE_FIELDS``.
    """
    normalization = teacher.get(
        'normalization',
        inspect.signature(CLIPTeacher).parameters['normalization'].default)
    weights = resolve_clip_checkpoint(teacher['model_name'],
                                      teacher['pretrained'],
                                      teacher.get('cache_dir'))
    return dict(
        teacher=teacher['model_name'],
        weights_sha256=file_sha256(weights),
        class_prompts=list(teacher['class_names']),
        templates=list(teacher['templates']),
        view_size=int(view_size),
        normalization=normalization,
        image_list=image_list_digest(img_paths))


def initial_label_fields(
        scores: Tensor, decoded: Tensor,
        entropy_threshold: float) -> Tuple[Dict[str, Tensor], Tensor]:
    """The label-table fields of the initial labeling (CCD 3.1, 3.3).

    Args:
        scores (Tensor): (N, C) teacher probabilities of the global views.
        decoded (Tensor): (N,) bool, the image could be decoded.
        entropy_threshold (float): tau_H of the confident images.

    Returns:
        (fields, has_estimate): ``fields`` maps each name of
        ``CACHED_TABLE_FIELDS`` to its value; ``has_estimate`` (C,) marks
        the classes with a confident top-1 image (the others keep b_c = 1).
    """
    bias, has_estimate = estimate_clip_bias(scores[decoded], entropy_threshold)
    confident = confident_mask(scores, entropy_threshold) & decoded
    return dict(
        global_scores=scores, valid=decoded, bias=bias,
        confident=confident), has_estimate


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable; directories cannot be opened on
    # Windows, where os.replace is already atomic.
    if not hasattr(os, 'O_DIRECTORY'):
        return
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_label_cache(path: str, fields: Dict[str, Tensor],
                      entropy_threshold: float, provenance: dict) -> None:
    """Write a label cache atomically.

    Args:
        path (str): destination file; its directory is created if needed.
        fields (dict): the ``CACHED_TABLE_FIELDS`` tensors.
        entropy_threshold (float): tau_H the bias and flags were made with.
        provenance (dict): from :func:`label_provenance`.
    """
    missing = set(CACHED_TABLE_FIELDS) - set(fields)
    if missing:
        raise KeyError(f'label cache fields missing: {sorted(missing)}')
    payload = dict(
        format=LABEL_CACHE_FORMAT,
        version=LABEL_CACHE_VERSION,
        provenance=dict(provenance),
        entropy_threshold=float(entropy_threshold),
        fields={
            name: fields[name].detach().cpu().clone()
            for name in CACHED_TABLE_FIELDS
        })
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temp_path = tempfile.mkstemp(
        dir=directory, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(handle, 'wb') as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp creates the file readable by its owner only; give it the
        # permissions of any file the user creates.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_path, 0o666 & ~umask)
        os.replace(temp_path, path)
    except BaseException:
        if osp.exists(temp_path):
            os.remove(temp_path)
        raise
    _fsync_directory(directory)


def read_label_cache(path: str) -> dict:
    """Read a label cache written by :func:`write_label_cache`.

    Returns:
        dict: ``provenance``, ``entropy_threshold`` and ``fields``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a label cache of this version.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'no label cache at {path}: make one with '
            f'tools/make_pseudo_labels.py CONFIG --out {path}')
    try:
        payload = torch.load(path, map_location='cpu', weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as error:
        raise ValueError(f'{path} is not a label cache: {error}') from error
    if not (isinstance(payload, dict)
            and payload.get('format') == LABEL_CACHE_FORMAT):
        raise ValueError(f'{path} is not a label cache')
    if payload.get('version') != LABEL_CACHE_VERSION:
        raise ValueError(
            f'{path} is a label cache of version {payload.get("version")}, '
            f'this ccd_mm reads version {LABEL_CACHE_VERSION}: make it again')
    return payload


def _first_difference(cached, expected) -> str:
    if isinstance(cached, list) and isinstance(expected, list):
        if len(cached) != len(expected):
            return f'{len(cached)} entries in the cache, {len(expected)} here'
        for index, (left, right) in enumerate(zip(cached, expected)):
            if left != right:
                return f'entry {index}: cache {left!r}, this run {right!r}'
    return f'cache {cached!r}, this run {expected!r}'


def check_provenance(path: str, cached: dict, expected: dict) -> None:
    """Refuse a cache whose provenance differs from the run's.

    Raises:
        LabelCacheMismatch: naming the first differing field of
            ``PROVENANCE_FIELDS``.
    """
    for field in PROVENANCE_FIELDS:
        if cached.get(field) != expected[field]:
            raise LabelCacheMismatch(
                f'label cache {path} was made with another {field} '
                f'({_first_difference(cached.get(field), expected[field])}); '
                'make it again with tools/make_pseudo_labels.py or drop '
                'label_cache', field)


def read_cached_scores(path: str, expected: dict) -> Tuple[Tensor, Tensor]:
    """The teacher's (scores (N, C), decoded (N,)) from a cache whose
    provenance matches ``expected`` (:func:`label_provenance` of the run).

    Raises:
        LabelCacheMismatch: see :func:`check_provenance`.
    """
    payload = read_label_cache(path)
    check_provenance(path, payload['provenance'], expected)
    fields = payload['fields']
    return fields['global_scores'], fields['valid']
