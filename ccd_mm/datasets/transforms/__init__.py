from .debias_pseudo_label import DebiasPseudoLabel
from .latent_pseudo_label import (INITIAL_LABELS_FIELD, LATENT_LOGITS_FIELD,
                                  LatentPseudoLabel)

__all__ = [
    'DebiasPseudoLabel', 'INITIAL_LABELS_FIELD', 'LATENT_LOGITS_FIELD',
    'LatentPseudoLabel'
]
