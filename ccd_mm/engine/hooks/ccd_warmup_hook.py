from typing import Optional

from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model


@HOOKS.register_module()
class CCDWarmupHook(Hook):
    """Switch the CCD head from warm-up to full training (CCD 3.4).

    During the ``warmup_epochs`` epochs the classifier learns from the
    initial labels alone; from then on ``CCDConsistencyHead`` adds the
    weak/strong consistency term. The head's switches are set from
    ``runner.epoch`` at the start of every epoch, so a resumed run is in the
    right phase.

    Args:
        warmup_epochs (int): E_w. Paper: 2.
        cam_scale_from_epoch (int, optional): 0-based epoch from which the
            head's ``positive_cam_scale`` applies (the released script's
            ``coeff``, from its first epoch). None leaves it off.
            Defaults to None.
        consistency (bool): Whether the consistency term starts after the
            warm-up. False keeps it off for the whole run, as in the rows of
            CCD's ablation (Table 2) without it. Defaults to True.
    """

    def __init__(self,
                 warmup_epochs: int = 2,
                 cam_scale_from_epoch: Optional[int] = None,
                 consistency: bool = True):
        self.warmup_epochs = warmup_epochs
        self.cam_scale_from_epoch = cam_scale_from_epoch
        self.consistency = consistency

    def before_train_epoch(self, runner: Runner) -> None:
        head = get_ori_model(runner.model).head
        head.consistency_active = (
            self.consistency and runner.epoch >= self.warmup_epochs)
        if self.cam_scale_from_epoch is not None:
            head.cam_scale_on.fill_(runner.epoch >= self.cam_scale_from_epoch)
