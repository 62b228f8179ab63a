from typing import Dict

import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

# Label-table fields of CDUL (and sample keys): S_final, the labels before
# any alignment step, and the latent label logits the training target comes
# from.
INITIAL_LABELS_FIELD = 'initial_labels'
LATENT_LOGITS_FIELD = 'latent_logits'


@TRANSFORMS.register_module()
class LatentPseudoLabel(BaseTransform):
    """Training target of CDUL: the pseudo-label ``y_u = sigmoid(y~_u)`` of
    the latent label logits (CDUL Sec. 3.2, Eq. 7).

    The transform declares the label-table fields of CDUL
    (``table_fields``), which the dataset wrapper creates:
    ``initial_labels`` (S_final) and ``latent_logits``.
    ``CDULInitialLabelHook`` sets the logits to ``logit(S_final)`` and
    ``GradientAlignmentHook`` updates them in place, so every worker serves
    the current labels.

    Required Keys:

    - latent_logits (C,)

    Added Keys:

    - gt_score

    Args:
        None: the transform has no settings; the step sizes of the label
        update belong to ``GradientAlignmentHook``.
    """

    table_fields = (INITIAL_LABELS_FIELD, LATENT_LOGITS_FIELD)

    def batch_targets(self, table) -> torch.Tensor:
        """Targets (N, C) of every image of a ``PseudoLabelTable``."""
        return torch.sigmoid(table.fields[LATENT_LOGITS_FIELD])

    def label_stages(self, table) -> Dict[str, torch.Tensor]:
        """The labels (N, C) of every image at each stage of CDUL, in
        order: ``initial`` (the teacher's global-view scores), ``aggregated``
        (S_final, Sec. 3.1) and ``aligned`` (the current training target,
        after the gradient-alignment steps so far, Sec. 3.2)."""
        return dict(
            initial=table.global_scores.clone(),
            aggregated=table.fields[INITIAL_LABELS_FIELD].clone(),
            aligned=self.batch_targets(table))

    def transform(self, results: dict) -> dict:
        results['gt_score'] = torch.sigmoid(
            torch.as_tensor(results[LATENT_LOGITS_FIELD]))
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'
