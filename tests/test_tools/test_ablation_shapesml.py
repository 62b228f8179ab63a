"""tools/benchmarks/ablation_shapesml.py end to end on a minimal setting: a
tiny random CLIP, 32 px ShapesML, one seed, two epochs."""
import json
import math

from .tool_fixtures import load_tool

ROWS = ('global', 'debias', 'update', 'ccd', 'cdul', 'oracle')
TRAINED = ROWS[:5]


def test_every_row_reported(tmp_path, tiny_clip_resnet, capsys):
    ablation = load_tool('benchmarks/ablation_shapesml')
    json_out = tmp_path / 'ablation.json'
    epochs = 2
    returned = ablation.main([
        '--teacher', tiny_clip_resnet['pretrained'], '--teacher-config',
        tiny_clip_resnet['model_config'], '--work-dir',
        str(tmp_path / 'work'), '--seeds', '0', '--num-train', '12',
        '--num-test', '12', '--image-size', '32', '--backbone', 'none',
        '--epochs',
        str(epochs), '--batch-size', '4', '--json-out',
        str(json_out)
    ])
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert result == json.loads(json_out.read_text())
    assert result['rows'].keys() == returned['rows'].keys() == set(ROWS)
    table = '\n'.join(lines[:-1])
    for row in ROWS:
        numbers = result['rows'][row]
        assert 0 <= numbers['pseudo_label_mAP']['mean'] <= 100
        title = ablation.ROW_TITLES[row]
        assert sum(line.startswith(f'| {title} |') for line in
                   lines) == 1, title
    for row in TRAINED:
        numbers = result['rows'][row]
        for name in ('test_mAP_label_free', 'test_mAP_last'):
            value = numbers[name]['mean']
            assert math.isfinite(value) and 0 < value <= 100, (row, name)
        assert 1 <= numbers['selected_epoch']['mean'] <= epochs
        run = numbers['runs'][0]
        assert len(run['selection_curve']) == epochs
        assert f'{numbers["test_mAP_last"]["mean"]:.1f}' in table
    assert result['rows']['oracle']['test_mAP_last'] is None
    stages = {row: result['rows'][row]['pseudo_label_stages']
              for row in TRAINED}
    # The teacher labels once: every CCD row starts from the same scores,
    # and only the rows with the CAM update have updated labels.
    initial = {stages[row]['initial']['mean'] for row in ROWS[:4]}
    assert len(initial) == 1
    assert 'updated' in stages['update'] and 'updated' in stages['ccd']
    assert 'updated' not in stages['debias']
    assert set(stages['cdul']) == {'initial', 'aggregated', 'aligned'}
    assert (tmp_path / 'work' / 'teacher_labels.pth').is_file()
    for row in TRAINED:
        assert (tmp_path / 'work' / f'{row}_seed0' /
                'best_label_free.pth').is_file()


def test_schedule_scales_with_epochs():
    ablation = load_tool('benchmarks/ablation_shapesml')
    assert ablation.scaled_epoch(2, 10, 10) == 2
    assert ablation.scaled_epoch(2, 10, 5) == 1
    assert ablation.scaled_epoch(3, 10, 20) == 6
    # Kept inside the run: at least one epoch before, one after.
    assert ablation.scaled_epoch(2, 10, 2) == 1
    assert ablation.scaled_epoch(9, 10, 3) == 2


def test_class_threshold_option_reaches_the_cam_update(tmp_path):
    ablation = load_tool('benchmarks/ablation_shapesml')

    def update_hook(*options):
        args = ablation.parse_args(['--backbone', 'none', *options])
        cfg = ablation.base_config(ablation.CCD_CONFIG, args,
                                   str(tmp_path), dict(type='CLIPTeacher'),
                                   str(tmp_path / 'run'), seed=0)
        return cfg.default_hooks.label_update

    assert update_hook().class_threshold == 0.5  # the config's
    hook = update_hook('--class-threshold', 'adaptive', '--adaptive-bound',
                       '1.5')
    assert (hook.class_threshold, hook.adaptive_bound) == ('adaptive', 1.5)
    assert update_hook('--class-threshold', '0.3').class_threshold == 0.3
