"""The demo's closing summary, from a run's files."""
import json

from tests.fixtures.tools import load_tool

demo_summary = load_tool('shapesml/demo_summary')

LOG = """\
2026/11/30 09:00:00 - mmengine - INFO - Config:
2026/11/30 09:00:01 - mmengine - INFO - CLIP initial labeling of 20 images \
(128px global view, teacher run)
2026/11/30 09:00:02 - mmengine - INFO - 8/20 images are confident \
(entropy <= 0.5); class bias min 0.913 max 0.972
2026/11/30 09:00:03 - mmengine - INFO - Pseudo-labels for epoch 1: 0.85 per \
image (>= 0.5), 0.26 saturated, mean 0.210
2026/11/30 09:00:04 - mmengine - INFO - Epoch(train) [1][5/5]  loss: 0.5
2026/11/30 09:00:05 - mmengine - INFO - Pseudo-labels for epoch 2: 0.85 per \
image (>= 0.5), 0.26 saturated, mean 0.210
2026/11/30 09:00:06 - mmengine - INFO - CAM label update at epoch 3: class \
threshold 0.500, 0.16 crops per image, 5.7 s
2026/11/30 09:00:07 - mmengine - INFO - Pseudo-labels for epoch 3: 0.11 per \
image (>= 0.5), 0.01 saturated, mean 0.120
2026/11/30 09:00:08 - mmengine - INFO - Label-free selection: epoch 4 saved \
as best_label_free.pth (the gradient of the pseudo-label mAP passed its \
first local minimum)
"""


def write_run(root):
    work_dir = root / 'work'
    (work_dir / '20261130_090000').mkdir(parents=True)
    (work_dir / '20261130_090000' / '20261130_090000.log').write_text(LOG)
    # An earlier run's log and a test run's are not read.
    for folder in ('20261129_120000', 'test/20261130_100000'):
        (work_dir / folder).mkdir(parents=True)
        (work_dir / folder /
         'run.log').write_text('... - INFO - 1/20 images are confident\n')
    (work_dir / 'last_checkpoint').write_text(f'{work_dir}/epoch_10.pth')
    for name, value in (('label_free', 52.84), ('last', 77.08), ('baseline',
                                                                 74.52)):
        (work_dir / 'test' / f'{name}.json').write_text(
            json.dumps({'multi-label/mAP': value}))
    stages = dict(
        initial=dict(mAP=76.19),
        debiased=dict(mAP=73.24),
        updated=dict(mAP=78.01))
    (work_dir / 'label_quality.json').write_text(
        json.dumps(dict(stages=stages)))
    (work_dir / 'vis').mkdir()
    for name in ('cam_boxes_epoch_3_0', 'class_bias', 'label_histogram'):
        (work_dir / 'vis' / f'{name}.png').write_bytes(b'')
    report = dict(
        args=dict(seed=1, threads=2),
        steps_done=2000,
        train_seconds=690.,
        crop_accuracy=0.9967,
        scene_top1_present=0.9433)
    (root / 'train_report.json').write_text(json.dumps(report))
    return work_dir


def test_summary_names_teacher_labels_test_map_pictures_and_next_steps(
        tmp_path, capsys):
    work_dir = write_run(tmp_path)
    text = demo_summary.main([
        'configs/shapes/ccd_shapesml.py', '--work-dir',
        str(work_dir), '--teacher-report',
        str(tmp_path / 'train_report.json')
    ])
    assert capsys.readouterr().out.strip() == text.strip()
    lines = text.splitlines()
    assert '  seed 1, 2 torch thread(s), 2000 steps, 11.5 min' in lines
    assert ('  held-out check: single objects recognised 99.7%, scenes '
            'whose top-1 class is present 94.3%') in lines
    # The label lines, in order; epoch 2's labels equal epoch 1's.
    first = lines.index(
        next(line for line in lines if line.startswith('Pseudo-labels (from')))
    last = lines.index('Train label mAP (the train split\'s ground truth, '
                       'read for this report only):')
    assert [
        line.split(':')[0].split(' (')[0].strip()
        for line in lines[first + 1:last]
    ] == [
        '8/20 images are confident', 'Pseudo-labels for epoch 1',
        'CAM label update at epoch 3', 'Pseudo-labels for epoch 3',
        'Label-free selection'
    ]
    assert '  8/20 images are confident (entropy <= 0.5); class bias min ' \
        '0.913 max 0.972' in lines
    assert '  label-free checkpoint best_label_free.pth: 52.8' in lines
    assert '  last checkpoint epoch_10.pth: 77.1' in lines
    assert ("  teacher's global labels 76.2, debiased 73.2, after the label "
            'update 78.0') in lines
    assert ("  baseline, the teacher's global labels without CCD (last "
            'checkpoint): 74.5') in lines
    assert '  CCD minus the baseline: +2.6 (one seed; docs/results.md has ' \
        'the spread over seeds)' in lines
    assert f'3 PNGs in {work_dir}/vis/' in text
    assert f'python tools/infer.py {work_dir}/epoch_10.pth ' \
        'data/shapesml/images/test --topk 3' in text


def test_summary_without_baseline_or_label_report_says_not_measured(tmp_path):
    work_dir = write_run(tmp_path)
    (work_dir / 'test' / 'baseline.json').unlink()
    (work_dir / 'label_quality.json').unlink()
    lines = demo_summary.main([
        'configs/shapes/ccd_shapesml.py', '--work-dir',
        str(work_dir), '--teacher-report',
        str(tmp_path / 'train_report.json')
    ]).splitlines()
    assert ("  baseline, the teacher's global labels without CCD (last "
            'checkpoint): not measured') in lines
    assert not any('CCD minus the baseline' in line for line in lines)
    index = lines.index("Train label mAP (the train split's ground truth, "
                        'read for this report only):')
    assert lines[index + 1] == '  not measured'
