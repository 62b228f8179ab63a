"""Distributed CCD through the OpenMMLab launcher: ``torchrun`` runs
``tools/train.py --launcher pytorch`` on 2 CPU processes (gloo) over a
ShapesML fixture; the sharded labeling passes must give the table of a
1-process run on every rank, training must go on, and the checkpoint must
carry the table once. Also: a COCO-size table holds scores, not images."""
import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from ccd_mm.datasets import PseudoLabelTable
from ccd_mm.engine.pseudo_label_dataset_lookup import find_pseudo_label_dataset
from ccd_mm.labeling.sharded_pass import gather_rows
from tests.fixtures.ccd_shapes_run import (ccd_shapes_config, load,
                                           make_shapes_root)
from tests.fixtures.runner_names import runner_from_cfg

REPO = Path(__file__).resolve().parents[2]
MAX_EPOCHS = 2
COCO_TRAIN_IMAGES, COCO_CLASSES = 82081, 80


@HOOKS.register_module(force=True)
class RankTableDumpHook(Hook):
    """Test probe: every rank saves its own table after training."""

    def after_train(self, runner):
        table = find_pseudo_label_dataset(runner).label_table
        torch.save(table.state_dict(),
                   os.path.join(runner.work_dir, f'table_rank{get_rank()}.pt'))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def distributed_config(data_root, teacher, work_dir):
    # One image or crop per forward, of the teacher and of the classifier:
    # a 2-rank pass batches other images together than a 1-process one,
    # and other batch shapes may pick other float32 kernels; with the same
    # shapes the kernels are the same and the tables bit-identical on any
    # CPU (tests/fixtures/tolerances.py).
    cfg = ccd_shapes_config(
        data_root,
        dict(teacher, batch_size=1),
        work_dir,
        max_epochs=MAX_EPOCHS)
    for hook in ('initial_labels', 'label_update'):
        cfg.default_hooks[hook].batch_size = 1
    # The update runs at the start of epoch 0, on the initial classifier:
    # a 1- and a 2-process run train on different batches, so only then do
    # both label with the same classifier and must give the same table.
    cfg.default_hooks.label_update.update_epochs = (0, )
    cfg.custom_hooks = [dict(type='RankTableDumpHook')]
    cfg.custom_imports = dict(
        imports=['ccd_mm', 'tests.test_engine.test_distributed_labeling'],
        allow_failed_imports=False)
    return cfg


@pytest.fixture(scope='module')
def runs(tmp_path_factory, tiny_clip_resnet):
    root = tmp_path_factory.mktemp('distributed')
    data_root = make_shapes_root(root / 'data')
    single_dir, sharded_dir = root / 'single', root / 'sharded'
    # One thread per process here (tests/conftest.py) as in each rank below.
    runner_from_cfg(
        distributed_config(data_root, tiny_clip_resnet,
                           str(single_dir))).train()

    config_file = root / 'ccd_shapes_distributed.py'
    distributed_config(data_root, tiny_clip_resnet,
                       str(sharded_dir)).dump(str(config_file))
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHONPATH=os.pathsep.join(
            [str(REPO)] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    result = subprocess.run([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        f'--master_port={free_port()}',
        str(REPO / 'tools/train.py'),
        str(config_file), '--launcher', 'pytorch'
    ],
                            cwd=str(REPO),
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return single_dir, sharded_dir


@pytest.mark.slow
def test_two_ranks_label_like_one(runs):
    single_dir, sharded_dir = runs
    single = load(single_dir / 'table_rank0.pt')['fields']
    ranks = [load(sharded_dir / f'table_rank{r}.pt') for r in (0, 1)]
    # every rank holds the identical table
    for name, value in ranks[0]['fields'].items():
        assert torch.equal(value, ranks[1]['fields'][name]), name
    sharded = ranks[0]['fields']
    assert bool(sharded['labeled']) and int(sharded['update_epoch']) == 0
    # initial labeling (CCD 3.1, 3.3); images do get different scores
    assert sharded['global_scores'].std(dim=0).sum() > 0
    for name in ('global_scores', 'bias', 'confident', 'valid'):
        assert torch.equal(sharded[name], single[name]), name
    # the CAM update (CCD 3.2) found crops and agrees across world sizes
    assert sharded['local_scores'].sum() > 0
    assert torch.equal(sharded['local_scores'], single['local_scores'])


@pytest.mark.slow
def test_two_ranks_train_all_epochs(runs):
    _, sharded_dir = runs
    final = load(sharded_dir / f'epoch_{MAX_EPOCHS}.pth')
    assert final['meta']['epoch'] == MAX_EPOCHS
    scalars_files = list(sharded_dir.glob('*/vis_data/scalars.json'))
    assert len(scalars_files) == 1  # only rank 0 logs
    losses = [
        record['loss'] for record in map(
            json.loads, scalars_files[0].read_text().splitlines())
        if 'loss' in record
    ]
    # 16 images, 2 ranks x 4 per batch: 2 iterations per epoch
    assert len(losses) == 2 * MAX_EPOCHS
    assert all(math.isfinite(loss) for loss in losses)


def _table_states(node):
    """Every pseudo-label table state nested anywhere in a checkpoint."""
    if isinstance(node, dict):
        found = [node] if {'digest', 'fields'} <= set(node) else []
        return found + [s for v in node.values() for s in _table_states(v)]
    if isinstance(node, (list, tuple)):
        return [s for v in node for s in _table_states(v)]
    return []


@pytest.mark.slow
def test_checkpoint_holds_the_table_once(runs):
    _, sharded_dir = runs
    # label_free_scores_epoch_*.pth are the selection's records, no
    # checkpoints.
    checkpoints = sorted(
        path.name for path in sharded_dir.glob('*.pth')
        if not path.name.startswith('label_free_scores'))
    assert checkpoints == ['best_label_free.pth'] + [
        f'epoch_{epoch}.pth' for epoch in range(1, MAX_EPOCHS + 1)
    ]
    table = load(sharded_dir / 'table_rank0.pt')
    for name in checkpoints:
        checkpoint = load(sharded_dir / name)
        states = _table_states(checkpoint)
        assert len(states) == 1, name
        assert states[0] is checkpoint[PseudoLabelTable.checkpoint_key]
        assert torch.equal(states[0]['fields']['local_scores'],
                           table['fields']['local_scores'])


def test_coco_size_table_holds_scores_not_images():
    """82,081 x 80 (COCO-2014 train): two (N, C) float32 score fields, two
    (N,) flags, the (N,) int64 file fingerprints, the (C,) bias and two
    scalars; no image-sized tensor."""
    image_ids = [
        f'train2014/COCO_train2014_{index:012d}.jpg'
        for index in range(COCO_TRAIN_IMAGES)
    ]
    table = PseudoLabelTable(image_ids, COCO_CLASSES)
    fields = table.fields
    n, c = COCO_TRAIN_IMAGES, COCO_CLASSES
    assert sum(t.nbytes for t in fields.values()) == (2 * n * c * 4 + 2 * n +
                                                      8 * n + c * 4 + 1 + 8)
    assert max(t.numel() for t in fields.values()) == n * c
    assert all(t.is_shared() for t in fields.values())
    # a labeling pass assembles the same O(C * N) rows from its batches
    order = torch.arange(n)
    rows = torch.rand(n, c)
    assembled = gather_rows(list(order.split(32)), list(rows.split(32)), n, c)
    assert assembled.shape == (n, c) and assembled.nbytes == n * c * 4
    assert torch.equal(assembled, rows)
