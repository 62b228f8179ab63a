"""tools/benchmarks/ablation_shapesml.py end to end on its --quick setting
with a tiny random CLIP: the row configs train as they are, the paired
differences, the label update's diagnosis and the selection rules are
reported."""
import json
import math

import pytest

from ccd_mm.core.early_stop import SELECTION_RULES
from tests.fixtures.tools import load_tool


def test_quick_run_reports_rows_differences_boxes_and_rules(
        tmp_path, tiny_clip_resnet, capsys):
    ablation = load_tool('benchmarks/ablation_shapesml')
    json_out = tmp_path / 'ablation.json'
    argv = [
        '--quick', '--teachers', tiny_clip_resnet['pretrained'],
        '--teacher-config', tiny_clip_resnet['model_config'], '--backbone',
        'none', '--work-dir',
        str(tmp_path / 'work'), '--seeds', '0', '1', '--rows', 'global_labels',
        'ccd', '--repeat-rows', '--jobs', '1', '--json-out',
        str(json_out)
    ]
    returned = ablation.main(argv)
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert result == json.loads(json_out.read_text())
    assert set(result['experiments']) == set(
        returned['experiments']) == {'main'}
    rows = result['experiments']['main']
    assert set(rows) == {'global_labels', 'ccd'}
    runs = {(run['row'], run['seed']): run for run in result['runs']}
    assert set(runs) == {(row, seed) for row in rows for seed in (0, 1)}
    for (row, _), run in runs.items():
        assert all(0 < value <= 100 for value in run['test_mAP'])
        # the CCD row measures the selection: tested and scored after each
        # of the 3 epochs of --quick; the baseline is tested at the end only
        measures_selection = row == 'ccd'
        assert len(run['test_mAP']) == (3 if measures_selection else 1)
        curve = run.get('selection_curve', [])
        assert len(curve) == (3 if measures_selection else 0)
    # the difference to the baseline is paired by seed
    difference = rows['ccd']['difference_to_baseline']
    expected = sum(runs['ccd', s]['test_mAP'][-1] -
                   runs['global_labels', s]['test_mAP'][-1]
                   for s in (0, 1)) / 2
    assert difference['n'] == 2
    assert math.isclose(difference['mean'], expected, abs_tol=1e-9)
    assert difference['low'] <= difference['mean'] <= difference['high']
    # only the row with a label update has boxes and updated labels
    for seed in (0, 1):
        assert 'cam_boxes' not in runs['global_labels', seed]
        boxes = runs['ccd', seed]['cam_boxes']
        assert boxes['all']['objects'] == (boxes['small']['objects'] +
                                           boxes['large']['objects']) > 0
        assert 0 <= boxes['all']['recall'] <= 100
        assert set(
            runs['ccd',
                 seed]['label_mAP']) == {'initial', 'debiased', 'updated'}
        assert runs['ccd', seed]['update_epoch'] == 2
    # every rule is scored on every run with a curve
    assert set(result['selection']) == set(SELECTION_RULES)
    for numbers in result['selection'].values():
        assert numbers['runs'] == 2
        assert all(value >= 0 for value in numbers['regret_to_best']['values'])
    table = '\n'.join(lines[:-1])
    assert '| ccd |' in table and '| global_labels |' in table
    assert f'{difference["mean"]:+.1f} [' in table
    # run again, the finished runs are reused, not trained again
    assert ablation.main(argv)['runs'] == returned['runs']
    # an ablation stopped early: the finished runs are reported, none trained
    after_seeds = argv.index('--seeds') + 3
    with_seed_2 = argv[:after_seeds] + ['2'] + argv[after_seeds:]
    assert ablation.main(with_seed_2 +
                         ['--finished-only'])['runs'] == returned['runs']


def test_repeats_run_a_subset_of_the_seeds(capsys):
    ablation = load_tool('benchmarks/ablation_shapesml')
    args = ablation.parse_args(
        ['--teachers', 'first.pt', 'second.pt', '--data-seeds', '0', '1'])
    plans = {plan['name']: plan for plan in ablation.experiments(args)}
    assert plans['main']['seeds'] == [0, 1, 2, 3, 4]
    assert plans['second_split']['seeds'] == [0, 1, 2]
    assert plans['second_teacher']['seeds'] == [0, 1, 2]
    assert plans['second_teacher']['teacher'] == 'second.pt'
    args = ablation.parse_args(
        ['--teachers', 'first.pt', 'second.pt', '--repeat-seeds', '3', '4'])
    plans = {plan['name']: plan for plan in ablation.experiments(args)}
    assert plans['second_split']['seeds'] == [3, 4]
    with pytest.raises(SystemExit):
        ablation.parse_args(['--seeds', '0', '1', '--repeat-seeds', '2'])
    assert '--repeat-seeds must be a subset of --seeds' in \
        capsys.readouterr().err


def test_a_run_is_reused_only_with_the_config_it_ran(tmp_path, monkeypatch):
    """The digest of a row's merged config is part of its job: a finished
    run of a config edited since is not taken for a run of the new one."""
    ablation = load_tool('benchmarks/ablation_shapesml')
    row = tmp_path / 'row.py'
    row.write_text("_base_ = ['{}']\n".format(
        ablation.REPO / 'configs/shapes/ablation/global_labels.py'))
    monkeypatch.setitem(ablation.ROW_CONFIGS, 'edited', str(row))
    before = ablation.config_digest('edited')
    assert ablation.config_digest('edited') == before
    assert before == ablation.config_digest('global_labels')
    row.write_text(row.read_text() + 'optim_wrapper = dict(optimizer=dict('
                   'lr=2e-3))\n')
    assert ablation.config_digest('edited') != before
    assert ablation.config_digest('ccd') != ablation.config_digest(
        'global_labels')
