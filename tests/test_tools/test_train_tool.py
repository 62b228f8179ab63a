"""tools/train.py and tools/test.py end to end: train, resume, evaluate."""
import os
import socket
import subprocess
import sys

import mmengine
import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmpretrain.apis import ImageClassificationInferencer

from ccd_mm.engine import load_checkpoint_file
from tests.fixtures.tools import (BATCH_SIZE, IMAGES_PER_CLASS, TOOLS,
                                  load_tool, write_tiny_config)

# Every test runs the tools as subprocesses (and torchrun).
pytestmark = pytest.mark.slow

NUM_IMAGES = 2 * IMAGES_PER_CLASS
ITERS_PER_EPOCH = NUM_IMAGES // BATCH_SIZE


def run_tool(*args, cwd, program=sys.executable, env=None):
    """Run a tool as a user would; its combined output is returned."""
    # torch's weights_only default must stay on: the tools read their own
    # checkpoints without turning it off.
    env = dict(os.environ, **(env or {}))
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    result = subprocess.run([program, *map(str, args)],
                            cwd=cwd,
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def load(checkpoint):
    return load_checkpoint_file(str(checkpoint), map_location='cpu')


def test_train_resume_and_test(tmp_path):
    config = write_tiny_config(tmp_path)
    work_dir = tmp_path / 'work'
    run_tool(
        TOOLS / 'train.py',
        config,
        '--work-dir',
        work_dir,
        '--cfg-options',
        'optim_wrapper.optimizer.lr=0.05',
        cwd=tmp_path)
    first = work_dir / 'epoch_1.pth'
    meta = load(first)['meta']
    assert (meta['epoch'], meta['iter']) == (1, ITERS_PER_EPOCH)
    dumped = mmengine.Config.fromfile(work_dir / config.name)
    assert dumped.optim_wrapper.optimizer.lr == 0.05
    first_mtime = first.stat().st_mtime_ns

    # --resume without a path continues from work_dir/last_checkpoint.
    log = run_tool(
        TOOLS / 'train.py',
        config,
        '--work-dir',
        work_dir,
        '--resume',
        '--cfg-options',
        'train_cfg.max_epochs=2',
        cwd=tmp_path)
    assert 'Loads checkpoint by local backend' in log
    assert f'resumed epoch: 1, iter: {ITERS_PER_EPOCH}' in log
    assert first.stat().st_mtime_ns == first_mtime
    last = work_dir / 'epoch_2.pth'
    meta = load(last)['meta']
    assert (meta['epoch'], meta['iter']) == (2, 2 * ITERS_PER_EPOCH)

    predictions = tmp_path / 'predictions.pkl'
    log = run_tool(
        TOOLS / 'test.py',
        config,
        last,
        '--work-dir',
        tmp_path / 'test',
        '--out',
        predictions,
        cwd=tmp_path)
    assert 'Loads checkpoint by local backend' in log
    samples = mmengine.load(predictions)
    assert len(samples) == NUM_IMAGES
    correct = sum(int(s['pred_label'][0] == s['gt_label'][0]) for s in samples)
    assert f'accuracy/top1: {100 * correct / NUM_IMAGES:.4f}' in log

    # The scores tools/test.py reported are those of the resumed weights.
    # The inferencer builds in the current default scope, which earlier
    # tests in this process may have left elsewhere.
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        inferencer = ImageClassificationInferencer(
            str(config), pretrained=str(last))
        for sample in samples:
            expected = inferencer(sample['img_path'])[0]['pred_scores']
            # test.py scores batches, the inferencer one image: float32
            # kernels of other batch shapes move a sigmoid score by a few
            # hundred ulps at most (tests/fixtures/tolerances.py); the
            # weights of another epoch move it by 1e-2 or more.
            np.testing.assert_allclose(
                sample['pred_score'].numpy(), expected, rtol=1e-4, atol=1e-5)


def test_amp_switches_to_amp_optim_wrapper(tmp_path):
    train_tool = load_tool('train')
    config = write_tiny_config(tmp_path)
    args = train_tool.parse_args([str(config), '--amp'])
    cfg = train_tool.merge_args(mmengine.Config.fromfile(config), args)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.optim_wrapper.optimizer.lr == 0.01
    # num_workers=0 in the tiny config: persistent workers would be refused.
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.work_dir == f'./work_dirs/{config.stem}'


def test_dist_train_runs_two_processes(tmp_path):
    config = write_tiny_config(tmp_path)
    work_dir = tmp_path / 'work'
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    log = run_tool(
        TOOLS / 'dist_train.sh',
        config,
        2,
        '--work-dir',
        work_dir,
        cwd=tmp_path,
        program='bash',
        env=dict(PORT=str(port)))
    assert 'Distributed training: True' in log
    # Each of the 2 ranks trains on half of the images.
    meta = load(work_dir / 'epoch_1.pth')['meta']
    assert (meta['epoch'], meta['iter']) == (1, ITERS_PER_EPOCH // 2)
