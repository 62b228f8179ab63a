"""The per-image record of what the teacher said, shared by every worker."""
import hashlib
from typing import Dict, Sequence

import torch


def image_list_digest(img_paths: Sequence[str]) -> str:
    """A short hash of the ordered image list, to tell whether a saved table
    belongs to this dataset."""
    digest = hashlib.sha1()
    for path in img_paths:
        digest.update(str(path).encode())
        digest.update(b'\0')
    return digest.hexdigest()[:16]


class PseudoLabelTable:
    """Teacher scores of every training image, kept in shared memory.

    mmpretrain's ``tools/train.py`` uses persistent DataLoader workers: they
    are forked once and never see a Python object that the main process
    replaces later. Every field is therefore a tensor moved to shared memory
    when the table is created (before any worker starts) and only ever
    updated in place, so a label update in the main process is what every
    worker reads at its next sample.

    Fields (N images, C classes):

    - ``global_scores`` (N, C): teacher probabilities of the global view
      (CCD Eq. 1-2), raw, before debias.
    - ``local_scores`` (N, C): per-class max over the CAM crops (CCD Eq. 5),
      raw; meaningful once ``update_epoch >= 0``.
    - ``bias`` (C,): the class-wise CLIP bias b (CCD 3.3); 1 = no correction.
    - ``confident`` (N,): entropy of the global scores <= tau_H.
    - ``valid`` (N,): the image decoded; undecodable images are never served.
    - ``labeled`` / ``update_epoch`` (scalars): whether the initial labeling
      ran, and the epoch of the last CAM label update (-1 = none).
    - any ``extra_fields`` (N, C), e.g. CDUL's latent label logits.

    Args:
        num_images (int): N.
        num_classes (int): C.
        digest (str): :func:`image_list_digest` of the dataset's images, stored
            with the state so a checkpoint of another dataset is not restored.
        extra_fields (Sequence[str]): names of further (N, C) float fields.
            Defaults to ().
    """

    def __init__(self,
                 num_images: int,
                 num_classes: int,
                 digest: str,
                 extra_fields: Sequence[str] = ()):
        self.digest = digest
        shape = (num_images, num_classes)
        self.fields: Dict[str, torch.Tensor] = dict(
            global_scores=torch.zeros(shape),
            local_scores=torch.zeros(shape),
            bias=torch.ones(num_classes),
            confident=torch.zeros(num_images, dtype=torch.bool),
            valid=torch.ones(num_images, dtype=torch.bool),
            labeled=torch.zeros((), dtype=torch.bool),
            update_epoch=torch.full((), -1, dtype=torch.long))
        for name in extra_fields:
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

    def write(self, name: str, value: torch.Tensor) -> None:
        """Overwrite a field in place (workers keep reading the same
        memory)."""
        self.fields[name].copy_(value)

    def state_dict(self) -> dict:
        return dict(digest=self.digest,
                    fields={k: v.clone() for k, v in self.fields.items()})

    def load_state_dict(self, state: dict) -> None:
        """Copy a saved state in place.

        Raises:
            ValueError: if the state belongs to another image list or its
                fields do not match this table's.
        """
        if state['digest'] != self.digest:
            raise ValueError(
                'the saved pseudo-label table belongs to another image list '
                f'(digest {state["digest"]} != {self.digest})')
        saved = state['fields']
        if set(saved) != set(self.fields) or any(
                saved[k].shape != v.shape for k, v in self.fields.items()):
            raise ValueError('the saved pseudo-label table has other fields '
                             'or shapes than this run')
        for name, value in saved.items():
            self.write(name, value)
