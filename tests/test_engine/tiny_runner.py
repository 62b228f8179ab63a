"""The smallest real mmengine run: one linear layer fitted by SGD."""
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import DataLoader

NUM_SAMPLES = 4
BATCH_SIZE = 2
ITERS_PER_EPOCH = NUM_SAMPLES // BATCH_SIZE


class LinearRegressor(BaseModel):
    """One linear layer trained on squared error: the smallest real model."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        outputs = self.linear(inputs).squeeze(1)
        if mode == 'loss':
            return dict(loss=((outputs - targets)**2).mean())
        return outputs


def build_runner(work_dir,
                 name,
                 max_epochs,
                 resume=False,
                 load_from=None,
                 targets=None,
                 **runner_args):
    """A runner over NUM_SAMPLES samples whose targets are ``2 * i`` unless
    given."""
    targets = targets or [2.0 * i for i in range(NUM_SAMPLES)]
    samples = [
        dict(inputs=torch.tensor([i, 1.0]), targets=torch.tensor(target))
        for i, target in enumerate(targets)
    ]
    return Runner(
        model=LinearRegressor(),
        work_dir=str(work_dir),
        experiment_name=name,
        train_dataloader=DataLoader(samples, batch_size=BATCH_SIZE),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        resume=resume,
        load_from=load_from,
        # A scope would stay the process-wide current one and send later
        # tests' mmpretrain builds to mmengine's registries.
        default_scope=None,
        **runner_args)
