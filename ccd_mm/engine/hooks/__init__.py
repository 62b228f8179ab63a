from .cam_label_update_hook import CAMLabelUpdateHook
from .ccd_warmup_hook import CCDWarmupHook
from .cdul_initial_label_hook import CDULInitialLabelHook
from .clip_initial_label_hook import CLIPInitialLabelHook
from .crop_oracle_label_hook import CropOracleLabelHook
from .eval_image_check_hook import EvalImageCheckHook
from .finite_loss_hook import FiniteLossHook
from .gradient_alignment_hook import GradientAlignmentHook
from .label_free_checkpoint_hook import LabelFreeCheckpointHook
from .pseudo_label_stats_hook import PseudoLabelStatsHook

__all__ = [
    'CAMLabelUpdateHook', 'CCDWarmupHook', 'CDULInitialLabelHook',
    'CLIPInitialLabelHook', 'CropOracleLabelHook', 'EvalImageCheckHook',
    'FiniteLossHook', 'GradientAlignmentHook', 'LabelFreeCheckpointHook',
    'PseudoLabelStatsHook'
]
