"""Runs of one config built in the same second log apart: the suite's
results may depend on neither the clock nor the tests before."""
import time

from tests.fixtures.ccd_shapes_run import ccd_shapes_config, make_shapes_root
from tests.fixtures.runner_names import runner_from_cfg


def test_runners_built_in_one_second_log_into_their_own_work_dirs(
        tmp_path, tiny_clip_resnet, monkeypatch):
    data_root = make_shapes_root(tmp_path / 'data')
    # Every runner of this test is built in the same second.
    monkeypatch.setattr(time, 'time', lambda: 1.8e9)
    runners = [
        runner_from_cfg(
            ccd_shapes_config(data_root, tiny_clip_resnet,
                              str(tmp_path / name)))
        for name in ('first', 'second')
    ]
    assert runners[0].timestamp == runners[1].timestamp
    for name, runner in zip(('first', 'second'), runners):
        runner.logger.warning(f'this is the {name} run')
    for name, runner in zip(('first', 'second'), runners):
        log_files = list((tmp_path / name).glob('*/*.log'))
        assert len(log_files) == 1, name
        assert f'this is the {name} run' in log_files[0].read_text()
