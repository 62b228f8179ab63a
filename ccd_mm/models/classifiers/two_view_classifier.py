"""Image classifier that forwards the weak and the strong view separately."""
from typing import List, Optional, Sequence, Union

import torch
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample


@MODELS.register_module()
class TwoViewClassifier(ImageClassifier):
    """:class:`ImageClassifier` whose training batch holds a weak and a
    strong view of every image, each forwarded on its own (CCD Sec. 3.4,
    Fig. 5), as the authors' training script does.

    With :class:`TwoViewDataPreprocessor` the inputs of a training batch are
    ``[weak, strong]``, two ``(N, 3, H, W)`` batches. The weak batch goes
    through the network alone, so BatchNorm normalises it with statistics of
    weak views only. The strong batch is forwarded in a second pass, and only
    while the head asks for it (``head.consistency_active``: False during
    CCD's warm-up), so during warm-up the strong view never reaches the
    network and the weak logits are those of a weak-only forward in every
    phase. Single-view batches (validation, test, the labeling passes) and
    the ``tensor`` / ``predict`` modes are :class:`ImageClassifier`'s.

    Args:
        backbone (dict): The backbone, as in :class:`ImageClassifier`.
        neck (dict, optional): The neck. Defaults to None.
        head (dict, optional): The head; a two-view batch needs one with
            ``loss(feats, data_samples, strong_feats=...)``, e.g.
            :class:`CCDConsistencyHead`. Defaults to None.
        pretrained (str, optional): Deprecated, see
            :class:`ImageClassifier`. Defaults to None.
        train_cfg (dict, optional): Batch augmentations, as in
            :class:`ImageClassifier`. Defaults to None.
        data_preprocessor (dict | nn.Module, optional): Its ``type``
            defaults to ``'TwoViewDataPreprocessor'``. Defaults to None.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 head: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 train_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if isinstance(data_preprocessor, dict) or data_preprocessor is None:
            data_preprocessor = dict(data_preprocessor or {})
            data_preprocessor.setdefault('type', 'TwoViewDataPreprocessor')
        super().__init__(
            backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            train_cfg=train_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)

    def loss(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]],
             data_samples: List[DataSample]) -> dict:
        """Losses of a single-view batch, or of ``[weak, strong]`` views.

        Args:
            inputs (Tensor | Sequence[Tensor]): ``(N, 3, H, W)`` images, or
                the weak and the strong views of the same N images.
            data_samples (List[DataSample]): The N samples' annotations.

        Returns:
            dict[str, Tensor]: The head's losses.
        """
        if isinstance(inputs, torch.Tensor):
            return super().loss(inputs, data_samples)
        weak, strong = inputs
        feats = self.extract_feat(weak)
        if not getattr(self.head, 'consistency_active', False):
            return self.head.loss(feats, data_samples)
        return self.head.loss(
            feats, data_samples, strong_feats=self.extract_feat(strong))
