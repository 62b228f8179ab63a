"""The benchmarks in tools/benchmarks run at a minimal size and print one
JSON line with their figures (timing targets are not asserted: they belong
to docs/benchmarks.md, not to a shared CI machine). One torch thread keeps
them fast on a loaded machine (see docs/benchmarks.md on spinning threads)."""
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / 'tools' / 'benchmarks'


@pytest.fixture
def bench_script(monkeypatch):
    """Import a benchmark script as a module (its sibling imports work)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))

    def load(name):
        spec = importlib.util.spec_from_file_location(
            f'bench_under_test_{name}', BENCHMARKS / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


def run_main(module, argv, capsys) -> dict:
    module.main(argv)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines
    return json.loads(lines[0])


def assert_rates(result, *keys):
    for key in keys:
        assert math.isfinite(result[key]) and result[key] > 0, key


def test_bench_labeling(bench_script, tmp_path, capsys):
    result = run_main(
        bench_script('bench_labeling'), [
            '--num-images', '8', '--loop-images', '2', '--batch-size', '4',
            '--num-workers', '1', '--repeats', '1', '--threads', '1',
            '--work-dir',
            str(tmp_path)
        ], capsys)
    assert result['benchmark'] == 'labeling' and result['num_images'] == 8
    assert result['pass_startup_s'] >= 0
    assert_rates(result, 'project_images_per_s', 'pure_forward_images_per_s',
                 'project_steady_images_per_s', 'batch1_loop_images_per_s',
                 'decode_images_per_s', 'decode_inclusive_limit_images_per_s',
                 'ratio_vs_pure_forward', 'ratio_vs_decode_inclusive_limit',
                 'speedup_vs_batch1_loop', 'batch1_loop_vs_pure_forward_cpu')
    # the three ways of labeling give the same scores
    assert result['all_decoded']
    assert result['max_abs_diff_vs_pure'] < 1e-5
    assert result['max_abs_diff_vs_loop'] < 1e-5
    assert result['machine']['cpu_count'] == os.cpu_count()


def test_bench_label_update(bench_script, tmp_path, capsys):
    result = run_main(
        bench_script('bench_label_update'), [
            '--num-images', '4', '--loop-images', '1', '--num-classes', '3',
            '--batch-size', '2', '--num-workers', '0', '--repeats', '1',
            '--threads', '1', '--work-dir',
            str(tmp_path)
        ], capsys)
    assert result['benchmark'] == 'label_update'
    assert result['mean_crops'] == 3  # class threshold 0: one crop a class
    assert result['pass_startup_s'] >= 0
    assert_rates(result, 'project_images_per_s', 'limit_images_per_s',
                 'project_steady_images_per_s', 'batch1_loop_images_per_s',
                 'ratio_vs_limit', 'speedup_vs_batch1_loop',
                 'dense_images_per_s', 'dense_speedup_vs_crops',
                 'dense_cpu_speedup_vs_crops')
    assert result['max_abs_diff_vs_limit'] < 1e-5
    assert result['max_abs_diff_vs_loop'] < 1e-5
    batching = result['crop_batching']
    assert batching['distinct_crop_shapes'] >= 1
    assert batching['fastest'] in ('bucketed', 'letterbox_1', 'letterbox_3')
    assert batching['letterbox_1']['canvas_short_sides'] == [128]
    for name in ('bucketed', 'letterbox_1', 'letterbox_3'):
        assert batching[name]['seconds'] > 0
        assert batching[name]['cpu_seconds'] > 0
    for name in ('letterbox_1', 'letterbox_3'):
        assert batching[name]['pixel_overhead'] >= 0


def test_bench_train_step(bench_script, capsys):
    result = run_main(
        bench_script('bench_train_step'), [
            '--image-size', '32', '--batch-size', '2', '--classifier-width',
            '8', '--steps', '1', '--repeats', '1', '--threads', '1'
        ], capsys)
    assert result['benchmark'] == 'train_step' and not result['amp']
    assert_rates(result, 'ccd_step_s', 'warmup_step_s', 'plain_step_s',
                 'ratio_ccd_vs_plain', 'ratio_ccd_vs_plain_cpu',
                 'ratio_warmup_vs_plain', 'ratio_warmup_vs_plain_cpu')
    assert math.isfinite(result['ccd_loss'])
    assert math.isfinite(result['plain_loss'])


def test_bench_index(bench_script, capsys):
    result = run_main(
        bench_script('bench_index'), [
            '--sizes', '100', '1000', '--num-classes', '4', '--lookups', '20',
            '--list-lookups', '20'
        ], capsys)
    assert result['benchmark'] == 'index'
    assert sorted(result['sizes']) == ['100', '1000']
    assert result['size_ratio'] == 10
    for num_images, figures in result['sizes'].items():
        assert figures['update_matches_rows']
        # two (N, C) float fields dominate: the table is O(C * N)
        assert figures['table_bytes'] >= 2 * int(num_images) * 4 * 4
        assert_rates(figures, 'lookup_us', 'update_us_per_image',
                     'list_index_lookup_us')
    assert_rates(result, 'lookup_growth', 'update_growth', 'list_index_growth')


@pytest.mark.slow
def test_bench_sharded_labeling_cli(tmp_path):
    """Through the command line: torchrun on 1 and 2 processes; the ranks'
    output must not reach stdout."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [str(REPO)] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    completed = subprocess.run([
        sys.executable,
        str(BENCHMARKS / 'bench_sharded_labeling.py'), '--num-images', '8',
        '--batch-size', '4', '--repeats', '1', '--work-dir',
        str(tmp_path)
    ],
                               env=env,
                               capture_output=True,
                               text=True,
                               timeout=240)
    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = completed.stdout.splitlines()
    assert len(lines) == 1, completed.stdout
    result = json.loads(lines[0])
    assert result['benchmark'] == 'sharded_labeling'
    assert result['processes'] == 2 and result['num_images'] == 8
    assert_rates(result, 'single_process_s', 'sharded_s', 'speedup',
                 'speedup_per_cpu_share')
    for key in ('cpu_share_single', 'cpu_share_sharded'):
        assert 0 < result[key] < 2, key  # one thread per rank
    assert result['max_abs_table_diff'] < 1e-5
