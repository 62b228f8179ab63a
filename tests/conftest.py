"""Shared fixtures: tiny open_clip models saved as checkpoints in a temp dir.

``tiny_clip_resnet`` and ``tiny_clip_vit`` are dicts to splat into the
teacher: ``CLIPTeacher(**tiny_clip_vit, class_names=['cat', 'dog'])``. Their
architectures are the open_clip model configs in ``tests/data/tiny_clip/``
(64 px input, embed_dim 32, a 2-layer text tower of width 32), loaded through
the same factory as real CLIP.
"""
import math
import os
import sys
from pathlib import Path

# One intra-op thread per process: the test process, its DataLoader workers
# and the tools' subprocesses share 2 cores on CI, and OpenMP threads that
# spin while waiting for a core made runs several times slower.
os.environ.setdefault('OMP_NUM_THREADS', '1')

import open_clip  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

TINY_CLIP_DIR = Path(__file__).parent / 'data' / 'tiny_clip'


def pytest_report_header():
    # Which environment runs the tests: CI checks it is its fresh virtualenv.
    return f'python environment: {sys.prefix}'


def _calibrate_batch_norm(visual: torch.nn.Module) -> None:
    """Give a random ResNet tower BatchNorm statistics of real inputs.

    At open_clip's init (zero last BatchNorm per block, unit running stats)
    the features shrink below the attention pool's positional embedding and
    every image gets the same embedding; tests could then not tell inputs
    apart.
    """
    batch_norms = [
        module for module in visual.modules()
        if isinstance(module, torch.nn.BatchNorm2d)
    ]
    for batch_norm in batch_norms:
        batch_norm.weight.data.uniform_(0.5, 1.5)
        batch_norm.bias.data.normal_(0, 0.1)
        batch_norm.momentum = None  # cumulative average over the batch
        batch_norm.reset_running_stats()
    visual.train()
    with torch.no_grad():
        visual(torch.rand(16, 3, 64, 64))
    for batch_norm in batch_norms:
        batch_norm.momentum = 0.1
    visual.eval()


def _save_tiny_clip(model_name: str, out_dir: Path, seed: int) -> dict:
    model_config = TINY_CLIP_DIR / f'{model_name}.json'
    open_clip.add_model_config(model_config)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = open_clip.create_model(model_name)
        _calibrate_batch_norm(model.visual)
    # CLIP's learned temperature is about 100 (docs/method.md, section 1).
    model.logit_scale.data.fill_(math.log(100))
    checkpoint = out_dir / f'{model_name}.pt'
    torch.save(model.state_dict(), checkpoint)
    return dict(
        model_name=model_name,
        model_config=str(model_config),
        pretrained=str(checkpoint))


@pytest.fixture(scope='session')
def tiny_clip_resnet(tmp_path_factory) -> dict:
    """Tiny ModifiedResNet CLIP (layers [1, 1, 1, 1], width 8, 64 px)."""
    return _save_tiny_clip(
        'ccd-tiny-RN', tmp_path_factory.mktemp('tiny_clip'), seed=0)


@pytest.fixture(scope='session')
def tiny_clip_vit(tmp_path_factory) -> dict:
    """Tiny ViT CLIP (2 layers, width 32, patch 16, 64 px)."""
    return _save_tiny_clip(
        'ccd-tiny-ViT', tmp_path_factory.mktemp('tiny_clip'), seed=1)
