"""CAM head trained with the pseudo-label BCE plus weak/strong consistency."""
from typing import List, Optional, Tuple

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ccd_mm.core.consistency import consistency_loss, soft_bce_with_logits
from .cam_multilabel_head import CAMMultiLabelHead


@MODELS.register_module()
class CCDConsistencyHead(CAMMultiLabelHead):
    """CAM head with CCD's loss ``BCE(weak, label) + beta * BCE(strong,
    sigmoid(weak).detach())`` (CCD Sec. 3.4, Eq. 8, Fig. 5).

    :class:`TwoViewClassifier` forwards the weak views (resize, flip) of a
    batch and gives their features to :meth:`loss`; while
    :attr:`consistency_active` is True it also forwards the strong views
    (independent flip, colour jitter) in a second pass and gives their
    features as ``strong_feats``. The weak logits learn the pseudo-labels
    ``gt_score``; the strong logits learn the detached weak predictions.

    Args:
        num_classes (int): Number of classes C.
        in_channels (int): Channels D of the last backbone feature map.
        consistency_weight (float): beta, the weight of the consistency term
            (CCD Sec. 3.4; 1 in the paper). Defaults to 1.0.
        positive_cam_scale (float): See :class:`CAMMultiLabelHead`
            (released script's ``coeff``). Defaults to 1.0.
        thr (float, optional): See :class:`CAMMultiLabelHead`.
            Defaults to None.
        topk (int, optional): See :class:`CAMMultiLabelHead`.
            Defaults to None.
        init_cfg (dict, optional): See :class:`CAMMultiLabelHead`.
            Defaults to None.

    Notes:
        - :attr:`consistency_active` (default False) is a public switch for a
          schedule hook (``CCDWarmupHook``): beta is 0 during warm-up (CCD
          Sec. 3.4), and the classifier then does not forward the strong
          view at all.
        - The loss dict always holds ``loss_pseudo_label`` and
          ``loss_consistency`` (the latter already multiplied by beta, 0 while
          inactive) so both are logged and their sum is the training loss.
        - Without ``strong_feats`` it is a :class:`CAMMultiLabelHead`;
          enabling the consistency term then is an error, because there is no
          strong view to make consistent.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 consistency_weight: float = 1.0,
                 positive_cam_scale: float = 1.0,
                 thr: Optional[float] = None,
                 topk: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            num_classes,
            in_channels,
            positive_cam_scale=positive_cam_scale,
            thr=thr,
            topk=topk,
            init_cfg=init_cfg)
        self.consistency_weight = consistency_weight
        self.consistency_active = False

    def loss(self,
             feats: Tuple[torch.Tensor],
             data_samples: List[DataSample],
             strong_feats: Optional[Tuple[torch.Tensor]] = None) -> dict:
        """Pseudo-label BCE of the weak logits, plus the consistency term.

        Args:
            feats (tuple[Tensor]): Backbone features of the weak views.
            data_samples (List[DataSample]): The samples, with ``gt_score``.
            strong_feats (tuple[Tensor], optional): Backbone features of the
                strong views of the same images, from a separate forward.
                Needed while :attr:`consistency_active`. Defaults to None.

        Returns:
            dict[str, Tensor]: ``loss_pseudo_label`` and ``loss_consistency``.
        """
        weak_logits = self(feats)
        targets = self._get_targets(data_samples, weak_logits)
        losses = dict(
            loss_pseudo_label=soft_bce_with_logits(weak_logits, targets))
        if not self.consistency_active:
            losses['loss_consistency'] = weak_logits.new_zeros(())
        elif strong_feats is None:
            raise ValueError(
                'consistency_active is True but the batch has a single view; '
                'use MultiView(num_views=[1, 1]) in the train pipeline with '
                'TwoViewClassifier and TwoViewDataPreprocessor.')
        else:
            losses['loss_consistency'] = self.consistency_weight * \
                consistency_loss(self(strong_feats), weak_logits)
        return losses
