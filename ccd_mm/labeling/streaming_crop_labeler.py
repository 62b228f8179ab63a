"""Teacher scores of crops that arrive batch by batch from a DataLoader,
run in full batches per crop shape."""
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor


class StreamingCropLabeler:
    """Labels the crops of a labeling pass with few, full teacher forwards.

    A loader batch of B images brings its crops stacked by shape; at the
    paper's crop size there are ~40 shapes, so a batch of 32 images with 10
    crops each gives forwards of ~8 crops. This labeler keeps the crops of
    each shape pending across loader batches and runs the teacher on whole
    batches of ``teacher.batch_size`` crops of a shape (on the remainders
    at :meth:`finish`), so crop labeling runs at the speed of a plain
    batched forward. To bound memory, the largest pending shape is also
    labeled whenever more than ``max_pending`` crops wait.

    Each crop has a target row; a row's value is the per-class max of the
    scores of its crops (CCD Eq. 5, :func:`~ccd_mm.core.aggregate.local_max`;
    rows start at 0, which equals the max over no crop since probabilities
    are non-negative). One crop per row keeps every crop's scores.

    Args:
        teacher: ``CLIPTeacher`` (``batch_size``, ``num_classes``, forward).
        num_rows (int): rows of the result.
        max_pending (int, optional): crops kept waiting at most. Defaults
            to 8 teacher batches.
    """

    def __init__(self,
                 teacher: torch.nn.Module,
                 num_rows: int,
                 max_pending: Optional[int] = None):
        self.teacher = teacher
        self.batch_size = teacher.batch_size
        self.max_pending = max_pending or 8 * teacher.batch_size
        self.rows = torch.zeros(num_rows, teacher.num_classes)
        self.pending: Dict[tuple, List[Tuple[Tensor, Tensor]]] = \
            defaultdict(list)
        self.num_pending = 0

    def add(self, targets: Tensor, stacks: List[Tuple[Tensor,
                                                      Tensor]]) -> None:
        """Queue crops stacked by shape (``CropBatch.stacks``).

        Args:
            targets (Tensor): (K,) target row of every crop of the batch, by
                crop number.
            stacks (list): ``(crop numbers (k,), crops (k, 3, h, w))`` per
                shape.
        """
        for positions, crops in stacks:
            shape = tuple(crops.shape[1:])
            self.pending[shape].append((targets[positions], crops))
            self.num_pending += len(crops)
            full = self._count(shape) // self.batch_size * self.batch_size
            if full:
                self._label(shape, full)
        while self.num_pending > self.max_pending:
            largest = max(self.pending, key=self._count)
            self._label(largest, self._count(largest))

    def finish(self) -> Tensor:
        """Label every pending crop; return the (num_rows, C) rows."""
        for shape in list(self.pending):
            self._label(shape, self._count(shape))
        return self.rows

    def _count(self, shape: tuple) -> int:
        return sum(len(targets) for targets, _ in self.pending[shape])

    def _label(self, shape: tuple, count: int) -> None:
        """Label the first ``count`` pending crops of ``shape``; the rest
        stay pending (only whole batches run before :meth:`finish`: a
        partial batch is a slower forward per crop)."""
        parts = self.pending.pop(shape)
        targets = torch.cat([t for t, _ in parts])
        crops = torch.cat([c for _, c in parts])
        if count < len(targets):
            self.pending[shape] = [(targets[count:], crops[count:])]
        targets, crops = targets[:count], crops[:count]
        scores = self.teacher(crops).float().cpu()
        self.num_pending -= count
        self.rows.scatter_reduce_(0, targets[:, None].expand_as(scores),
                                  scores, 'amax')
