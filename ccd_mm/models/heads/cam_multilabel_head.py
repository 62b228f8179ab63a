"""Multi-label head whose 1x1-conv output is the class activation map."""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.models.heads import MultiLabelClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ccd_mm.core.cam import scale_positive_cam
from ccd_mm.core.consistency import soft_bce_with_logits


@MODELS.register_module()
class CAMMultiLabelHead(MultiLabelClsHead):
    """1x1-conv class head on the unpooled feature map; GAP of the CAM gives
    the logits (CCD Sec. 3.2 and 3.4).

    The 1x1 convolution maps the last backbone feature map ``(N, D, h, w)`` to
    one map per class ``(N, C, h, w)``: that map is the class activation map
    (CAM) used by the classifier-guided label update, and its global average
    is the class logit. The head trains on the pseudo-labels carried by every
    data sample as ``gt_score`` with a mean-reduced soft BCE (CCD Eq. 8, L_ce).

    Args:
        num_classes (int): Number of classes C.
        in_channels (int): Channels D of the last backbone feature map
            (2048 for ResNet-50/101, 512 for ResNet-18).
        positive_cam_scale (float): Factor applied to the positive CAM values
            before pooling while the switch :attr:`cam_scale_on` is True.
            This is the released training script's ``coeff`` (3 there, from
            the first epoch's training on); not in the paper. Defaults to
            1.0 (paper: no scaling).
        thr (float, optional): Score threshold for ``pred_label``, as in
            :class:`MultiLabelClsHead`. Defaults to None (0.5 when ``topk``
            is None too).
        topk (int, optional): Number of top scores taken as ``pred_label``
            when ``thr`` is None, as in :class:`MultiLabelClsHead`.
            Defaults to None.
        init_cfg (dict, optional): Initialisation of the 1x1 conv.
            Defaults to None, meaning
            ``dict(type='Normal', layer='Conv2d', std=0.01)``.

    Notes:
        - The config must not pool the features (no neck): ``pre_logits``
          needs the 4-D map, e.g. ResNet with ``out_indices=(3,)``.
        - :attr:`cam_scale_on` (a bool buffer, default False) is the switch a
          schedule hook sets (``head.cam_scale_on.fill_(True)``); while it
          is True the scaling also applies to ``predict``, as in the
          released script. Being a buffer, checkpoints carry it to
          evaluation.
          :meth:`forward_cam` returns the unscaled map unless asked for the
          one the logits pool (``scaled=True``).
        - Targets are always ``gt_score`` (soft pseudo-labels); a sample
          without it is an error rather than a silent one-hot fallback.
          The ``loss`` config of :class:`MultiLabelClsHead` is not used.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 positive_cam_scale: float = 1.0,
                 thr: Optional[float] = None,
                 topk: Optional[int] = None,
                 init_cfg: Optional[dict] = None):
        if init_cfg is None:
            init_cfg = dict(type='Normal', layer='Conv2d', std=0.01)
        super().__init__(thr=thr, topk=topk, init_cfg=init_cfg)
        if positive_cam_scale <= 0:
            raise ValueError('positive_cam_scale must be > 0, got '
                             f'{positive_cam_scale}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.positive_cam_scale = positive_cam_scale
        # A buffer, so a checkpoint evaluated later scores as in training.
        self.register_buffer('cam_scale_on', torch.tensor(False))
        self.cam_conv = nn.Conv2d(in_channels, num_classes, kernel_size=1)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Return the last stage's feature map, unpooled ``(N, D, h, w)``."""
        feat = feats[-1]
        if feat.dim() != 4:
            raise ValueError(
                f'{type(self).__name__} needs the unpooled (N, D, h, w) '
                f'feature map, got shape {tuple(feat.shape)}; remove the '
                'pooling neck from the model config.')
        return feat

    def forward_cam(self,
                    feats: Tuple[torch.Tensor],
                    scaled: bool = False) -> torch.Tensor:
        """Class activation maps ``(N, C, h, w)``.

        Args:
            feats (Tuple[torch.Tensor]): The backbone's feature maps.
            scaled (bool): Return the map the logits pool, its positive part
                times ``positive_cam_scale`` while :attr:`cam_scale_on`.
                False returns it before any scaling. Defaults to False.
        """
        cam = self.cam_conv(self.pre_logits(feats))
        if scaled and self.cam_scale_on:
            cam = scale_positive_cam(cam, self.positive_cam_scale)
        return cam

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Logits ``(N, C)``: global average pooling of the CAM."""
        return self.forward_cam(feats, scaled=True).mean(dim=(2, 3))

    def _get_targets(self, data_samples: List[DataSample],
                     reference: torch.Tensor) -> torch.Tensor:
        """Stack the samples' ``gt_score`` pseudo-labels into ``(N, C)``."""
        for index, sample in enumerate(data_samples):
            if 'gt_score' not in sample:
                raise KeyError(
                    f'data sample {index} has no gt_score: '
                    f'{type(self).__name__} trains on soft pseudo-labels; '
                    'wrap the train dataset so that every sample carries '
                    'them.')
        return torch.stack([s.gt_score for s in data_samples]).to(reference)

    def _get_loss(self, cls_score: torch.Tensor,
                  data_samples: List[DataSample], **kwargs) -> dict:
        """Soft BCE of the logits against the pseudo-labels."""
        targets = self._get_targets(data_samples, cls_score)
        return dict(loss_pseudo_label=soft_bce_with_logits(cls_score, targets))
