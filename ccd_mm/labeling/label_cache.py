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
half-written one; the temporary file of a writer that was killed is removed
by the next write of the same cache. They are read with
``torch.load(weights_only=True)``: a cache holds tensors, strings and
numbers only. The SHA-256 of the cached tensors is stored with them and
checked on read, and so are their values (:func:`check_label_fields`:
finite probabilities, softmax rows for decoded images and zero rows for the
others, a bias in (0, 1]): a cache changed after it was written is refused,
naming the file, even when its digest was recomputed.
"""
import hashlib
import inspect
import os
import os.path as osp
import pickle
import socket
import tempfile
from typing import Dict, Iterator, List, Sequence, Tuple

import torch
from torch import Tensor

from ccd_mm.datasets.pseudo_label_table import image_list_digest
from ccd_mm.datasets.transforms import INITIAL_LABELS_FIELD
from ccd_mm.teachers.clip_checkpoint import resolve_clip_checkpoint
from ccd_mm.teachers.clip_teacher import CLIPTeacher

LABEL_CACHE_FORMAT = 'ccd_mm.label_cache'
# 2: the digest of the cached tensors (``fields_sha256``).
LABEL_CACHE_VERSION = 2
PROVENANCE_FIELDS = ('teacher', 'weights_sha256', 'class_prompts', 'templates',
                     'view_size', 'normalization', 'image_list')
# The label-table fields a cache carries, all set by the initial labeling.
CACHED_TABLE_FIELDS = ('global_scores', 'valid', 'bias', 'confident')
# Further table fields that hold per-class probabilities: CCD's CAM crop
# scores, CDUL's aggregated initial labels.
ROW_PROBABILITY_FIELDS = ('local_scores', INITIAL_LABELS_FIELD)
# A float32 softmax over C classes sums to 1 within about C * 1e-7.
SOFTMAX_SUM_TOLERANCE = 1e-3


class NotALabelCacheError(ValueError):
    """A file that holds no label cache at all (another kind of file)."""


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


def fields_sha256(fields: Dict[str, Tensor]) -> str:
    """Hex SHA-256 of the ``CACHED_TABLE_FIELDS`` tensors: names, dtypes,
    shapes and bytes."""
    digest = hashlib.sha256()
    for name in CACHED_TABLE_FIELDS:
        value = fields[name].detach().cpu().contiguous()
        digest.update(f'{name} {value.dtype} {tuple(value.shape)}'.encode())
        digest.update(
            value.view(torch.uint8).numpy().tobytes() if value.numel() else b''
        )
    return digest.hexdigest()


def check_label_fields(fields: Dict[str, Tensor], source: str) -> None:
    """Refuse label-table fields that no labeling pass can produce: those of
    a label cache and those of a table restored from a checkpoint.

    Checks the ``CACHED_TABLE_FIELDS`` (present, consistent shapes, finite,
    ``global_scores`` in [0, 1], ``bias`` in (0, 1]), the rows as the
    teacher writes them (each decoded image's ``global_scores`` row is a
    softmax, summing to 1; an undecodable image's row is 0 and it is not
    confident) and, when present, the table's further float fields
    (finite; ``ROW_PROBABILITY_FIELDS`` in [0, 1]).

    Raises:
        ValueError: naming ``source``, the field and how many values are
            wrong.
    """
    missing = [name for name in CACHED_TABLE_FIELDS if name not in fields]
    if missing:
        raise ValueError(f'{source} lacks the label fields {missing}')
    scores, bias = fields['global_scores'], fields['bias']
    num_images = len(scores)
    if scores.ndim != 2 or bias.shape != scores.shape[1:] or any(
            fields[name].shape != (num_images, )
            for name in ('valid', 'confident')):
        raise ValueError(
            f'{source} has label fields of inconsistent shapes: ' +
            ', '.join(f'{name} {tuple(fields[name].shape)}'
                      for name in CACHED_TABLE_FIELDS))
    for name, unit, problem, wrong in _impossible_values(fields):
        if wrong.any():
            raise ValueError(
                f'{source}: {int(wrong.sum())} of the {wrong.numel()} {name} '
                f'{unit} {problem}, which the teacher never gives; label '
                'the split again (a new run, or tools/make_pseudo_labels.py '
                'for a cache)')


def _impossible_values(
        fields: Dict[str, Tensor]) -> Iterator[Tuple[str, str, str, Tensor]]:
    """(field, unit, problem, mask of the wrong units) of every check, the
    plainest problems first."""
    scores, valid = fields['global_scores'], fields['valid']
    for name, value in fields.items():
        if value.is_floating_point():
            yield name, 'values', 'are not finite', ~torch.isfinite(value)
    for name in ('global_scores', ) + ROW_PROBABILITY_FIELDS:
        if name in fields:
            yield (name, 'values', 'are outside [0, 1]',
                   (fields[name] < 0) | (fields[name] > 1))
    bias = fields['bias']
    yield 'bias', 'values', 'are outside (0, 1]', (bias <= 0) | (bias > 1)
    yield ('global_scores', 'rows',
           'of decoded images do not sum to 1 (the teacher\'s softmax)',
           valid & ((scores.sum(dim=1) - 1).abs() > SOFTMAX_SUM_TOLERANCE))
    yield ('global_scores', 'rows', 'of undecodable images are not 0',
           ~valid & (scores != 0).any(dim=1))
    yield ('confident', 'flags', 'of undecodable images are set',
           fields['confident'] & ~valid)


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


def _temp_prefix(path: str) -> str:
    # The writer's host and process id, so that a later write can tell the
    # leftover of a killed writer from the file of one still writing.
    return f'.{osp.basename(path)}.{socket.gethostname()}.{os.getpid()}.'


def _process_gone(pid: int) -> bool:
    if os.name == 'nt':  # os.kill(pid, 0) would signal it there
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def remove_stale_temp_files(path: str) -> List[str]:
    """Remove the temporary files that killed writers of ``path`` left:
    those of processes of this machine that no longer run.

    Returns:
        list[str]: the removed files.
    """
    directory = osp.dirname(osp.abspath(path))
    start = f'.{osp.basename(path)}.'
    removed = []
    for name in os.listdir(directory):
        if not (name.startswith(start) and name.endswith('.tmp')):
            continue
        writer = name[len(start):-len('.tmp')].rsplit('.', 2)
        if (len(writer) == 3 and writer[0] == socket.gethostname()
                and writer[1].isdigit() and _process_gone(int(writer[1]))):
            os.remove(osp.join(directory, name))
            removed.append(osp.join(directory, name))
    return removed


def write_label_cache(path: str, fields: Dict[str, Tensor],
                      entropy_threshold: float, provenance: dict) -> None:
    """Write a label cache atomically.

    Args:
        path (str): destination file; its directory is created if needed.
        fields (dict): the ``CACHED_TABLE_FIELDS`` tensors.
        entropy_threshold (float): tau_H the bias and flags were made with.
        provenance (dict): from :func:`label_provenance`.
    """
    check_label_fields(fields, f'the labels to write to {path}')
    cached = {
        name: fields[name].detach().cpu().clone()
        for name in CACHED_TABLE_FIELDS
    }
    payload = dict(
        format=LABEL_CACHE_FORMAT,
        version=LABEL_CACHE_VERSION,
        provenance=dict(provenance),
        entropy_threshold=float(entropy_threshold),
        fields=cached,
        fields_sha256=fields_sha256(cached))
    directory = osp.dirname(osp.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temp_files(path)
    handle, temp_path = tempfile.mkstemp(
        dir=directory, prefix=_temp_prefix(path), suffix='.tmp')
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
        NotALabelCacheError: the file is not a label cache.
        ValueError: a label cache of another version, or whose tensors were
            changed after it was written (digest, values).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'no label cache at {path}: make one with '
            f'tools/make_pseudo_labels.py CONFIG --out {path}')
    try:
        payload = torch.load(path, map_location='cpu', weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as error:
        raise NotALabelCacheError(
            f'{path} is not a label cache: {error}') from error
    if not (isinstance(payload, dict)
            and payload.get('format') == LABEL_CACHE_FORMAT):
        raise NotALabelCacheError(f'{path} is not a label cache')
    if payload.get('version') != LABEL_CACHE_VERSION:
        raise ValueError(
            f'{path} is a label cache of version {payload.get("version")}, '
            f'this ccd_mm reads version {LABEL_CACHE_VERSION}: make it again')
    fields = payload.get('fields', {})
    check_label_fields(fields, f'label cache {path}')
    if fields_sha256(fields) != payload.get('fields_sha256'):
        raise ValueError(
            f'label cache {path} was changed after it was written: its '
            'tensors do not match the digest stored with them; make it '
            'again with tools/make_pseudo_labels.py')
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
