"""Checkpoints open without running code unless trusted:// asks for it."""
import os
import pickle

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

from ccd_mm.engine import (TRUSTED_SCHEME, UntrustedCheckpointError,
                           load_checkpoint_file)
from tests.fixtures.code_running_pickle import (FORMATS,
                                                write_code_running_checkpoint)
from tests.fixtures.tools import load_tool
from .tiny_runner import ITERS_PER_EPOCH, build_runner

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


@pytest.fixture
def trained(tmp_path):
    """A runner after one epoch, and the checkpoint it wrote."""
    runner = build_runner(tmp_path, f'first_{tmp_path.name}', max_epochs=1)
    runner.train()
    return runner, tmp_path / 'epoch_1.pth'


def test_torch_default_refuses_what_the_loader_reads(trained):
    runner, checkpoint = trained
    # The types of the message hub are beyond torch's own weights_only...
    with pytest.raises(pickle.UnpicklingError, match='Weights only load'):
        torch.load(checkpoint)
    # ...and within the allow-list of the local loader, with no scheme.
    loaded = CheckpointLoader.load_checkpoint(str(checkpoint))
    assert (loaded['meta']['epoch'], loaded['meta']['iter']) == \
        (1, ITERS_PER_EPOCH)
    losses = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(losses, HistoryBuffer)
    assert losses.mean() == pytest.approx(
        runner.message_hub.get_scalar('train/loss').mean())
    for key, value in runner.model.state_dict().items():
        assert torch.equal(loaded['state_dict'][key], value)
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ


@pytest.mark.parametrize('file_format', FORMATS)
def test_code_running_checkpoint_is_refused_unrun(tmp_path, file_format):
    marker = tmp_path / 'code_ran'
    path = write_code_running_checkpoint(tmp_path / 'evil.pth', marker,
                                         file_format)
    with pytest.raises(UntrustedCheckpointError) as error:
        CheckpointLoader.load_checkpoint(str(path))
    assert not marker.exists()
    message = str(error.value)
    assert str(path) in message and f'{TRUSTED_SCHEME}{path}' in message
    # Named by the user, the file is unpickled in full and its code runs
    # (torch then finds no checkpoint in a bare pickle).
    try:
        CheckpointLoader.load_checkpoint(TRUSTED_SCHEME + str(path))
    except RuntimeError:
        assert file_format == 'plain'
    assert marker.exists()


def test_history_buffer_getattr_reaches_nothing_else(tmp_path):

    class PrivateAttribute:

        def __reduce__(self):
            return getattr, (HistoryBuffer, '__init__')

    path = tmp_path / 'getattr.pth'
    torch.save(dict(meta=dict(method=PrivateAttribute())), path)
    with pytest.raises(UntrustedCheckpointError, match='HistoryBuffer'):
        load_checkpoint_file(str(path))


def test_empty_file_is_named(tmp_path):
    path = tmp_path / 'empty.pth'
    path.write_bytes(b'')
    with pytest.raises(ValueError, match=f'{path} is empty or truncated'):
        load_checkpoint_file(str(path))


def test_load_from_and_resume_refuse_code(tmp_path):
    marker = tmp_path / 'code_ran'
    path = str(write_code_running_checkpoint(tmp_path / 'evil.pth', marker))
    for resume in (False, True):
        runner = build_runner(
            tmp_path, f'evil_{resume}', 2, resume=resume, load_from=path)
        with pytest.raises(UntrustedCheckpointError, match='trusted://'):
            runner.train()
    assert not marker.exists()


def test_resume_through_train_tool(trained, tmp_path):
    _, checkpoint = trained
    train_tool = load_tool('train')
    cfg_dict = dict(work_dir=str(tmp_path), train_cfg=dict(max_epochs=2))

    def resume_settings(*resume_args):
        args = train_tool.parse_args(['unused_config.py', *resume_args])
        cfg = train_tool.merge_args(train_tool.Config(cfg_dict), args)
        return cfg.resume, cfg.load_from

    # --resume alone: the runner picks work_dir/last_checkpoint.
    assert resume_settings('--resume') == (True, None)
    assert resume_settings('--resume', 'x.pth') == (True, 'x.pth')

    resume, load_from = resume_settings('--resume')
    resumed = build_runner(
        tmp_path,
        f'resumed_{tmp_path.name}',
        2,
        resume=resume,
        load_from=load_from)
    resumed.train()
    assert (resumed.epoch, resumed.iter) == (2, 2 * ITERS_PER_EPOCH)
    meta = load_checkpoint_file(str(tmp_path / 'epoch_2.pth'))['meta']
    assert (meta['epoch'], meta['iter']) == (2, 2 * ITERS_PER_EPOCH)


@pytest.mark.parametrize('kept', [100, 0.5])
def test_truncated_checkpoint_is_named_with_what_to_do(tmp_path, kept):
    # What kill -9 during a checkpoint write leaves behind: torch raises
    # RuntimeError (PytorchStreamReader) or OSError, by where it stops.
    path = tmp_path / 'epoch_2.pth'
    torch.save(dict(state_dict=dict(weight=torch.zeros(64, 64))), path)
    content = path.read_bytes()
    path.write_bytes(content[:kept if kept > 1 else int(len(content) * kept)])
    with pytest.raises(
            ValueError,
            match=f'{path} is truncated or corrupt \\((RuntimeError|OSError): '
            '.*\\): not a checkpoint; a run killed while writing it leaves '
            'such a file behind: use an earlier checkpoint'):
        load_checkpoint_file(str(path))
