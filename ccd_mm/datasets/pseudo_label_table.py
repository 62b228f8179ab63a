"""The per-image record of what the teacher said, shared by every worker,
and its place in a checkpoint."""
import hashlib
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch


def image_list_digest(img_paths: Sequence[str]) -> str:
    """A short hash of the ordered image list, to tell whether a saved table
    belongs to this dataset."""
    digest = hashlib.sha1()
    for path in img_paths:
        digest.update(str(path).encode())
        digest.update(b'\0')
    return digest.hexdigest()[:16]


def split_image_root(img_paths: Sequence[str]) -> Tuple[str, List[str]]:
    """(the deepest folder holding every image, each path relative to it).

    Two image lists that differ only in where their data directory lies
    have the same relative paths.
    """
    paths = [osp.normpath(str(path)) for path in img_paths]
    if not paths:
        return '', []
    root = osp.commonpath([osp.dirname(path) or '.' for path in paths])
    return root, [osp.relpath(path, root) for path in paths]


class TableMismatchError(ValueError):
    """A saved pseudo-label table that does not belong to this run: another
    image list, other fields or other shapes."""


class PseudoLabelTable:
    """Teacher scores of every training image, kept in shared memory.

    mmpretrain's ``tools/train.py`` uses persistent DataLoader workers: they
    are forked once and never see a Python object that the main process
    replaces later. Every field is therefore a tensor moved to shared memory
    when the table is created (before any worker starts) and only ever
    updated in place, so a label update in the main process is what every
    worker reads at its next sample.

    Fields every table has (N images, C classes):

    - ``global_scores`` (N, C): teacher probabilities of the global view
      (CCD Eq. 1-2), raw, before debias.
    - ``local_scores`` (N, C): per-class max over the CAM crops (CCD Eq. 5),
      raw; meaningful once ``update_epoch >= 0``.
    - ``bias`` (C,): the class-wise CLIP bias b (CCD 3.3); 1 = no correction.
    - ``confident`` (N,): entropy of the global scores <= tau_H.
    - ``valid`` (N,): the image decoded; undecodable images are never served.
    - ``fingerprints`` (N,) int64: a digest of the bytes of each file the
      initial labels were made from (``ccd_mm.labeling.file_fingerprints``),
      so a restored table is checked against the files a run reads now.
    - ``labeled`` / ``update_epoch`` (scalars): whether the initial labeling
      ran, and the epoch of the last CAM label update (-1 = none).

    A method whose labels need more, e.g. CDUL's latent label logits, names
    further (N, C) fields in its target transform's ``table_fields``; the
    dataset wrapper creates them.

    The table travels in every checkpoint under :attr:`checkpoint_key`
    (:meth:`save_to`, :meth:`saved_state`), with the image list it was made
    for, so a resumed run restores it instead of labeling again; the image
    list (:meth:`check_image_list`) and the file contents
    (:meth:`check_contents`) must be this run's.

    Args:
        img_paths (Sequence[str]): the images, in dataset order (N of them).
        num_classes (int): C.
        extra_fields (Sequence[str]): names of further (N, C) float fields.
            Defaults to ().
    """

    checkpoint_key = 'pseudo_label_table'
    common_fields = ('global_scores', 'local_scores', 'bias', 'confident',
                     'valid', 'fingerprints', 'labeled', 'update_epoch')
    # Tables saved before fingerprints existed lack this field.
    fingerprint_field = 'fingerprints'

    def __init__(self,
                 img_paths: Sequence[str],
                 num_classes: int,
                 extra_fields: Sequence[str] = ()):
        self.digest = image_list_digest(img_paths)
        self.image_root, self.relative_paths = split_image_root(img_paths)
        shape = (len(img_paths), num_classes)
        self.fields: Dict[str, torch.Tensor] = dict(
            global_scores=torch.zeros(shape),
            local_scores=torch.zeros(shape),
            bias=torch.ones(num_classes),
            confident=torch.zeros(len(img_paths), dtype=torch.bool),
            valid=torch.ones(len(img_paths), dtype=torch.bool),
            fingerprints=torch.zeros(len(img_paths), dtype=torch.long),
            labeled=torch.zeros((), dtype=torch.bool),
            update_epoch=torch.full((), -1, dtype=torch.long))
        for name in extra_fields:
            if name in self.fields:
                raise ValueError(f'{name!r} is a field every table has')
            self.fields[name] = torch.zeros(shape)
        for tensor in self.fields.values():
            tensor.share_memory_()

    def __getattr__(self, name: str) -> torch.Tensor:
        fields = self.__dict__.get('fields', {})
        if name in fields:
            return fields[name]
        raise AttributeError(name)

    @property
    def num_images(self) -> int:
        return self.fields['global_scores'].shape[0]

    @property
    def num_classes(self) -> int:
        return self.fields['global_scores'].shape[1]

    @property
    def extra_fields(self) -> List[str]:
        """The fields beyond those every table has."""
        return [name for name in self.fields if name not in self.common_fields]

    def write(self, name: str, value: torch.Tensor) -> None:
        """Overwrite a field in place (workers keep reading the same
        memory)."""
        self.fields[name].copy_(value)

    def state_dict(self) -> dict:
        return dict(
            digest=self.digest,
            image_root=self.image_root,
            relative_paths=list(self.relative_paths),
            fields={
                k: v.clone()
                for k, v in self.fields.items()
            })

    def moved_root(self, state: dict) -> Optional[str]:
        """The folder a saved table's images were in, when this table has
        the same images under another folder; else None."""
        if state['digest'] == self.digest:
            return None
        if state.get('relative_paths') == self.relative_paths:
            return state['image_root']
        return None

    def check_image_list(self, state: dict) -> None:
        """Raise :class:`TableMismatchError` saying how a saved table's
        images differ from this table's, unless they are the same up to
        the folder that holds them."""
        if state['digest'] == self.digest or self.moved_root(state):
            return
        saved = state.get('relative_paths')
        if saved is None:
            raise TableMismatchError(
                'the saved pseudo-label table belongs to another image list '
                f'(digest {state["digest"]}, this run {self.digest}; the '
                'checkpoint does not list its images)')
        here = f'{len(self.relative_paths)} images under {self.image_root}'
        there = f'{len(saved)} images under {state["image_root"]}'
        first = next(
            (index
             for index, (old,
                         new) in enumerate(zip(saved, self.relative_paths))
             if old != new), None)
        if first is not None:
            detail = (f'image {first} is {saved[first]} there, '
                      f'{self.relative_paths[first]} here')
        else:
            detail = 'one list continues the other'
        raise TableMismatchError(
            'the saved pseudo-label table belongs to another image list: '
            f'{there} there, {here} here; {detail}')

    def check_contents(self, state: dict, fingerprints: torch.Tensor,
                       source: str) -> bool:
        """Raise :class:`TableMismatchError` if the files of this table's
        images hold other bytes than those a saved table was made from:
        the same names, other images (another split, another seed), whose
        labels would be wrong.

        Args:
            state (dict): from :meth:`state_dict`, of the same image list
                (:meth:`check_image_list`).
            fingerprints (Tensor): (N,) int64, the fingerprints of the files
                now (``ccd_mm.labeling.file_fingerprints``).
            source (str): what holds the state, for the message.

        Returns:
            bool: False when the state was saved before tables had
            fingerprints and cannot be checked.
        """
        saved = state['fields'].get(self.fingerprint_field)
        if saved is None:
            return False
        if saved.shape != fingerprints.shape:
            return True  # load_state_dict names the shapes
        changed = torch.nonzero(saved != fingerprints).flatten().tolist()
        if changed:
            names = ', '.join(self.relative_paths[i] for i in changed[:3])
            raise TableMismatchError(
                f'{len(changed)} of the {len(saved)} images under '
                f'{self.image_root} hold other bytes than those the '
                f'pseudo-label table of {source} was made from, e.g. {names}')
        return True

    def load_state_dict(self, state: dict) -> None:
        """Copy a saved state in place.

        A state saved for the same images under another folder (the data
        directory moved) is restored; :meth:`moved_root` tells. A state
        saved before tables had fingerprints leaves this table's; the
        caller checks the contents (:meth:`check_contents`) first.

        Raises:
            TableMismatchError: if the state belongs to another image list
                or its fields do not match this table's.
        """
        self.check_image_list(state)
        saved = state['fields']
        expected = {
            name
            for name in self.fields
            if name in saved or name != self.fingerprint_field
        }
        if set(saved) != expected or any(saved[k].shape != self.fields[k].shape
                                         for k in expected):
            raise TableMismatchError(
                'the saved pseudo-label table has other fields or shapes '
                f'than this run: {_describe(saved)} there, '
                f'{_describe(self.fields)} here')
        for name, value in saved.items():
            self.write(name, value)

    def save_to(self, checkpoint: dict) -> None:
        """Put the table's state into a checkpoint."""
        checkpoint[self.checkpoint_key] = self.state_dict()

    @classmethod
    def saved_state(cls, checkpoint) -> Optional[dict]:
        """The table state in a checkpoint, or None if it holds none."""
        if not isinstance(checkpoint, dict):
            return None
        return checkpoint.get(cls.checkpoint_key)


def _describe(fields: Dict[str, torch.Tensor]) -> str:
    return ', '.join(f'{name} {tuple(value.shape)}'
                     for name, value in sorted(fields.items()))
