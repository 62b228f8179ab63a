"""Data preprocessor for batches that hold a weak and a strong view of every
image."""
from typing import Sequence

import torch
from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.registry import MODELS


@MODELS.register_module()
class TwoViewDataPreprocessor(ClsDataPreprocessor):
    """ClsDataPreprocessor for samples that carry several views of one image
    (CCD Sec. 3.4, Fig. 5: a weak and a strong view).

    With the train pipeline ``MultiView(num_views=[1, 1], transforms=[weak,
    strong])`` + ``PackInputs``, each sample's ``inputs`` is a list of two
    image tensors. The stock :class:`ClsDataPreprocessor` crashes on such a
    batch under ``pseudo_collate`` and silently builds a 5-D ``(2, N, 3, H,
    W)`` tensor under ``default_collate``. This preprocessor returns the
    views as a list of batches, ``[weak (N, 3, H, W), strong (N, 3, H, W)]``
    (the layout of mmpretrain's self-supervised preprocessors), with the N
    data samples unchanged; :class:`TwoViewClassifier` forwards each batch on
    its own. Every view is converted to RGB, normalised and padded exactly as
    :class:`ClsDataPreprocessor` does; a single-view batch (validation, test,
    label update) is handled by it unchanged.

    Args:
        mean (Sequence[Number], optional): Pixel mean of the R, G, B
            channels. Defaults to None (no normalisation).
        std (Sequence[Number], optional): Pixel standard deviation of the R,
            G, B channels. Defaults to None.
        pad_size_divisor (int): Padded size is divisible by it; the images
            of one view are padded to the largest. Defaults to 1.
        pad_value (Number): Padded pixel value. Defaults to 0.
        to_rgb (bool): Whether to convert BGR to RGB. Defaults to False.
        to_onehot (bool): Whether to add one-hot ``gt_score`` built from
            ``gt_label``. Defaults to False.
        num_classes (int, optional): Number of classes for ``to_onehot``.
            Defaults to None.
        batch_augments (dict, optional): Batch augmentations (Mixup, ...)
            for single-view batches only. Defaults to None.

    Notes:
        Both mmengine collate functions are understood: ``pseudo_collate``
        gives a list of views, each a tuple of N ``(3, H, W)`` tensors;
        ``default_collate`` gives a list of views, each an ``(N, 3, H, W)``
        tensor.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        """Preprocess each view as a batch of single images.

        Args:
            data (dict): Data from the dataloader, with ``inputs`` and
                ``data_samples``.
            training (bool): Whether this is a training step.

        Returns:
            dict: ``inputs``, one ``(N, 3, H, W)`` tensor per view (a list)
            or a single ``(N, 3, H, W)`` tensor for a single-view batch, and
            the N ``data_samples``.
        """
        inputs = data['inputs']
        if not self._is_multi_view(inputs):
            return super().forward(data, training)
        if training and self.batch_augments is not None:
            raise ValueError('batch_augments mix samples of one view and '
                             'are not supported on multi-view batches.')
        # The samples (and a to_onehot gt_score) are prepared once, with the
        # first view; the other views only need their pixels.
        first = super().forward({**data, 'inputs': list(inputs[0])}, training)
        views = [first['inputs']]
        for view in inputs[1:]:
            views.append(super().forward(
                dict(inputs=list(view), data_samples=None),
                training)['inputs'])
        return dict(inputs=views, data_samples=first['data_samples'])

    @staticmethod
    def _is_multi_view(inputs) -> bool:
        """Whether ``inputs`` is a list of views rather than of images."""
        if isinstance(inputs, torch.Tensor):
            return False
        first = inputs[0]
        if isinstance(first, torch.Tensor):
            # default_collate stacks each view into one (N, 3, H, W) tensor.
            return first.dim() == 4
        return isinstance(first, Sequence)
