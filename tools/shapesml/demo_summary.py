"""Print what the ShapesML demo did, in a few lines a newcomer can read.

The teacher's quality (its ``train_report.json``), the pseudo-label
statistics the label hooks logged during training, the train label mAP
before and after the label update (``tools/eval_pseudo_labels.py``, the
train split's ground truth read for this report only), the test-split mAP of
the label-free and of the last checkpoint (``tools/test.py --out-item
metrics``) beside the baseline's, a classifier trained on the teacher's
global labels alone, where ``tools/visualize.py`` put the pictures, and what
to run next. ``tools/shapesml/run_demo.sh`` calls it at its end::

    python tools/shapesml/demo_summary.py configs/shapes/ccd_shapesml.py \\
        --work-dir work_dirs/ccd_shapesml \\
        --teacher-report work_dirs/shapesml_teacher/train_report.json
"""
import argparse
import glob
import json
import os.path as osp
from typing import List, Optional

# The label hooks' log lines that tell how the pseudo-labels went.
LABEL_LOG_MARKERS = ('images are confident', 'CAM label update at epoch',
                     'Pseudo-labels for epoch', 'Label-free selection')
MAP_KEY = 'multi-label/mAP'
NEXT_STEPS = '''\
Next:
  label quality by stage (the train split's ground truth, for the report):
    python tools/eval_pseudo_labels.py {config} {last}
  predictions on images:
    python tools/infer.py {last} {data}/images/test --topk 3
  the paper's ablation (Table 2) on ShapesML:
    python tools/benchmarks/ablation_shapesml.py --work-dir \\
        work_dirs/ablation_shapesml
  docs/results.md explains these figures; README.md shows how to train on
  VOC, COCO and NUS-WIDE.'''


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Summarise a ShapesML demo run')
    parser.add_argument('config', help='the training config')
    parser.add_argument('--work-dir', required=True, help='the training run')
    parser.add_argument(
        '--teacher-report', required=True, help="the teacher's report")
    parser.add_argument(
        '--test-dir',
        help='metrics of the test runs: label_free.json and last.json '
        '(default: WORK_DIR/test)')
    parser.add_argument(
        '--baseline-test',
        help='metrics of the baseline\'s last checkpoint (default: '
        'TEST_DIR/baseline.json)')
    parser.add_argument(
        '--label-report',
        help='tools/eval_pseudo_labels.py report of the last checkpoint '
        '(default: WORK_DIR/label_quality.json)')
    parser.add_argument(
        '--pictures', help='tools/visualize.py output (default: WORK_DIR/vis)')
    parser.add_argument('--data', default='data/shapesml')
    return parser.parse_args(argv)


def training_log(work_dir: str) -> Optional[str]:
    """The newest mmengine log of a training run in ``work_dir``."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))
    return logs[-1] if logs else None


def label_log_lines(log_file: str) -> List[str]:
    """The label hooks' messages, mmengine's prefix dropped; per-epoch
    pseudo-label lines only where the labels changed."""
    lines, previous_stats = [], None
    with open(log_file) as log:
        for line in log:
            message = line.rstrip('\n').split(' - INFO - ', 1)[-1]
            if not any(marker in message for marker in LABEL_LOG_MARKERS):
                continue
            if message.startswith('Pseudo-labels for epoch'):
                stats = message.split(':', 1)[1]
                if stats == previous_stats:
                    continue
                previous_stats = stats
            lines.append(message)
    return lines


def read_map(metrics_file: str) -> Optional[float]:
    if not osp.exists(metrics_file):
        return None
    with open(metrics_file) as file:
        return json.load(file)[MAP_KEY]


def test_map(metrics_file: str) -> str:
    value = read_map(metrics_file)
    return 'not measured' if value is None else f'{value:.1f}'


def label_quality_line(report_file: str) -> str:
    """Train label mAP at each stage of a ``tools/eval_pseudo_labels.py``
    report."""
    if not osp.exists(report_file):
        return 'not measured'
    with open(report_file) as file:
        stages = json.load(file)['stages']
    names = dict(
        initial='teacher\'s global labels',
        debiased='debiased',
        updated='after the label update')
    return ', '.join(f'{names.get(stage, stage)} {numbers["mAP"]:.1f}'
                     for stage, numbers in stages.items()
                     if numbers['mAP'] is not None)


def last_checkpoint(work_dir: str) -> str:
    """The run's last checkpoint, as mmengine records it."""
    with open(osp.join(work_dir, 'last_checkpoint')) as file:
        return file.read().strip()


def teacher_lines(report_file: str) -> List[str]:
    with open(report_file) as file:
        report = json.load(file)
    args = report['args']
    lines = [
        f"seed {args['seed']}, {args['threads']} torch thread(s), "
        f"{report['steps_done']} steps, {report['train_seconds'] / 60:.1f} min"
    ]
    if 'crop_accuracy' in report:
        lines.append(
            'held-out check: single objects recognised '
            f"{100 * report['crop_accuracy']:.1f}%, scenes whose top-1 "
            f"class is present {100 * report['scene_top1_present']:.1f}%")
    return lines


def summary(args) -> str:
    test_dir = args.test_dir or osp.join(args.work_dir, 'test')
    pictures = args.pictures or osp.join(args.work_dir, 'vis')
    last = last_checkpoint(args.work_dir)
    log_file = training_log(args.work_dir)
    out = ['', '=== ShapesML demo: summary ===']
    out.append(f'Teacher ({args.teacher_report}):')
    out += [f'  {line}' for line in teacher_lines(args.teacher_report)]
    out.append(f'Pseudo-labels (from {log_file}):')
    out += [f'  {line}' for line in label_log_lines(log_file)]
    out.append('Train label mAP (the train split\'s ground truth, read for '
               'this report only):')
    out.append('  ' + label_quality_line(
        args.label_report or osp.join(args.work_dir, 'label_quality.json')))
    baseline_file = args.baseline_test or osp.join(test_dir, 'baseline.json')
    out.append('Test split mAP (its ground truth is read for this only):')
    out.append('  label-free checkpoint best_label_free.pth: '
               f"{test_map(osp.join(test_dir, 'label_free.json'))}")
    out.append(f'  last checkpoint {osp.basename(last)}: '
               f"{test_map(osp.join(test_dir, 'last.json'))}")
    out.append('  baseline, the teacher\'s global labels without CCD (last '
               f'checkpoint): {test_map(baseline_file)}')
    ccd, baseline = (read_map(osp.join(test_dir,
                                       'last.json')), read_map(baseline_file))
    if ccd is not None and baseline is not None:
        out.append(f'  CCD minus the baseline: {ccd - baseline:+.1f} (one '
                   'seed; docs/results.md has the spread over seeds)')
    drawn = sorted(glob.glob(osp.join(pictures, '*.png')))
    out.append(f'Pictures (tools/visualize.py): {len(drawn)} PNGs in '
               f'{pictures}/ (CAM boxes of the label update, class bias, '
               'pseudo-label histograms)')
    out.append(
        NEXT_STEPS.format(config=args.config, last=last, data=args.data))
    return '\n'.join(out)


def main(argv=None):
    text = summary(parse_args(argv))
    print(text)
    return text


if __name__ == '__main__':
    main()
