from typing import Dict, Optional

import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from ccd_mm.core.aggregate import blend_labels
from ccd_mm.core.bias import debias as debias_scores


@TRANSFORMS.register_module()
class DebiasPseudoLabel(BaseTransform):
    """Turn the teacher's raw scores of a sample into its training target.

    The initial label is ``clamp(max(p_global, floor) / b, 0, 1)`` (CCD 3.3);
    once the CAM label update has run, the local label (max over crops,
    Eq. 5) is debiased the same way and blended with it:
    ``clamp(alpha * initial + (1 - alpha) * local, 0, 1)`` (Eq. 6-7). The
    paper's debiased local label is clamped to ``[0, 1]`` first; the
    released script blends it unclamped (``clamp_local=False``), so a crop
    whose debiased score exceeds 1 can lift a low initial label to 1.
    Because the raw scores stay in the label table, these settings can change
    without running the teacher again.

    Required Keys:

    - clip_scores (C,)
    - clip_bias (C,)
    - clip_local_scores (C,), only after a label update

    Added Keys:

    - gt_score

    The transform reads the fields every ``PseudoLabelTable`` has, so it
    declares no ``table_fields``.

    Args:
        debias (bool): Divide by the class bias b. False keeps b = 1, the
            "w/o debias" rows of CCD Table 2. Defaults to True.
        floor (float): Lower bound in [0, 1) of a raw score before the
            division, so tiny probabilities do not vanish (released script:
            1/20). Defaults to 0.05.
        alpha (float): Weight of the initial label in the blend (Eq. 7);
            paper 0.4, released script 0.2. Defaults to 0.4.
        clamp_local (bool): Clamp the debiased local label to ``[0, 1]``
            before the blend (paper). False clamps only the blend, as the
            released script does (train.py, the label update). Defaults to
            True.
    """

    table_fields = ()

    def __init__(self,
                 debias: bool = True,
                 floor: float = 0.05,
                 alpha: float = 0.4,
                 clamp_local: bool = True):
        if not 0 <= alpha <= 1:
            raise ValueError(f'alpha must lie in [0, 1], got {alpha}')
        if not 0 <= floor < 1:
            raise ValueError(f'floor must lie in [0, 1), got {floor}')
        self.debias = debias
        self.floor = floor
        self.alpha = alpha
        self.clamp_local = clamp_local

    def targets(self,
                global_scores: torch.Tensor,
                bias: torch.Tensor,
                local_scores: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Targets for one sample (C,) or a batch (N, C) of raw scores."""
        bias = bias if self.debias else torch.ones_like(bias)
        initial = debias_scores(global_scores, bias, self.floor)
        if local_scores is None:
            return initial
        local = debias_scores(
            local_scores, bias, self.floor, saturate=self.clamp_local)
        return blend_labels(initial, local, self.alpha)

    def batch_targets(self, table) -> torch.Tensor:
        """Targets (N, C) of every image of a ``PseudoLabelTable``."""
        local = table.local_scores if table.update_epoch >= 0 else None
        return self.targets(table.global_scores, table.bias, local)

    def label_stages(self, table) -> Dict[str, torch.Tensor]:
        """The labels (N, C) of every image at each stage of CCD, in order.

        - ``initial``: the teacher's raw global-view probabilities (3.1).
        - ``debiased``: the training target before any label update (3.3).
        - ``updated``: the target after the CAM label update (3.2, Eq. 7);
          only when the table holds one.
        """
        stages = dict(
            initial=table.global_scores.clone(),
            debiased=self.targets(table.global_scores, table.bias))
        if table.update_epoch >= 0:
            stages['updated'] = self.batch_targets(table)
        return stages

    def transform(self, results: dict) -> dict:
        results['gt_score'] = self.targets(
            torch.as_tensor(results['clip_scores']),
            torch.as_tensor(results['clip_bias']),
            None if results.get('clip_local_scores') is None else
            torch.as_tensor(results['clip_local_scores']))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(debias={self.debias}, '
                f'floor={self.floor}, alpha={self.alpha}, '
                f'clamp_local={self.clamp_local})')
