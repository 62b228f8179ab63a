"""CCD measured on ShapesML: the gain over the teacher's global labels with
its confidence interval, the headroom of better labels, the paper's
ablation rows, what the label update's boxes find, and how well label-free
checkpoint selection picks.

Every row is a config file, trained through mmengine's ``Runner`` exactly
as ``tools/train.py`` would run it; this script only points the config at a
generated split, the teacher and backbone files, a training seed and a work
dir, and turns on the recording of the label update's boxes. The main
split's rows other than the baseline and the headroom rows also measure the
label-free selection: they are evaluated on the test split after every epoch
and score the training images for the selection's curve (for the report:
ground truth never reaches training or selection); every other run is tested
after its last epoch only, which saves about a fifth of its time:

===============================  ==============================================
row                              config (in ``configs/shapes/``)
===============================  ==============================================
``global_labels``                ``ablation/global_labels.py``: the baseline,
                                 the teacher's global-view labels
``debias``                       ``ablation/debias.py``
``label_update``                 ``ablation/label_update.py``: the update
                                 with debias, no consistency
``update_only``                  ``ablation/update_only.py``: the update
                                 alone, no debias, no consistency
``update_consistency``           ``ablation/update_consistency.py``: the
                                 update with consistency, no debias
``without_update``               ``ablation/without_update.py``: ``ccd``
                                 without its label update (a control)
``ccd``                          ``ccd_shapesml_paper.py``: CCD, paper
``ccd_script``                   ``ccd_shapesml.py``: CCD, the released
                                 script's values (the defaults' preset)
``script_without_update``        ``ablation/script_without_update.py``:
                                 ``ccd_script`` without its label update (a
                                 control)
``script_global_labels``         ``ablation/script_global_labels.py``: the
                                 baseline trained as ``ccd_script`` trains
                                 (head lr x10, positive CAM x3)
``script_update_only``           ``ablation/script_update_only.py``,
``script_label_update``          ``ablation/script_label_update.py`` and
``script_update_consistency``    ``ablation/script_update_consistency.py``:
                                 ``update_only``, ``label_update`` and
                                 ``update_consistency`` with the values of
                                 ``ccd_script``
``script_half_max_boxes``        ``ablation/script_half_max_boxes.py``:
                                 ``ccd_script`` with boxes around the CAM's
                                 half-maximum region
``script_cam_07``                ``ablation/script_cam_07.py``: ``ccd_script``
                                 with boxes at CAM threshold 0.7
``script_cam_09``                the same at 0.9 (with
                                 ``script_half_max_boxes`` at 0.5 and
                                 ``ccd_script`` at 0.95: supplementary Fig. 7)
``script_fine_cam``              ``ablation/script_fine_cam.py``:
                                 ``ccd_script`` with a 16 x 16 CAM (output
                                 stride 8; a diagnostic of the update)
``script_paper_t``               ``ablation/script_paper_t.py``: ``ccd_script``
                                 with the paper's t = 0.5 (a control for the
                                 script's windowed t)
``script_sample_t``              ``ablation/script_sample_t.py``:
                                 ``ccd_script`` with the script's target count
                                 of classes read on one sample (a control)
``dense_local_labels``           ``ablation/dense_local_labels.py``: ``ccd``
                                 with the local labels pooled on one dense
                                 teacher pass
``dense_labels``                 ``ablation/dense_labels.py``:
                                 ``dense_local_labels`` with initial labels
                                 fused with the dense scores
``script_dense_local_labels``    ``ablation/script_dense_local_labels.py``:
                                 ``ccd_script`` with the local labels pooled
                                 on one dense teacher pass
``cdul``                         ``ablation/cdul.py``
``crop_oracle_labels``           ``ablation/crop_oracle_labels.py``: report
                                 only, labels from ground-truth boxes
``ground_truth_labels``          ``ablation/ground_truth_labels.py``: report
                                 only, the split's own labels
===============================  ==============================================

Experiments: ``--rows`` on the first split (``--data-seeds``) with the first
teacher (``--teachers``); ``--repeat-rows`` again on the second split with
the first teacher and on the first split with the second teacher, so that a
conclusion is not one split's or one teacher's accident. Every row of an
experiment is trained with the same ``--seeds``, so rows are compared by
paired differences: the mean over seeds of (row - baseline) with its 95%
confidence interval (Student's t).

Printed: markdown tables (rows, label-update diagnosis, selection rules),
then one JSON line with every run's numbers. ``--jobs`` runs trainings in
parallel processes of ``--threads`` torch threads each. ``--quick`` is a
minutes-long smoke run on a tiny split (the test suite's). Each run writes
``result.json`` in its work dir; run again, the command reuses the finished
runs of the same settings (the row's merged config included: a run whose
config has changed since is trained again) and trains the rest.
Example: the headline and its repeats (27 runs in about 88 minutes on 2
cores), then the headroom rows added to it, training only those (docs/
results.md has the tables they printed)::

    python tools/benchmarks/ablation_shapesml.py \\
        --teachers work_dirs/shapesml_teacher/shapesml-clip-rn.pt \\
                   work_dirs/shapesml_teacher_seed1/shapesml-clip-rn.pt \\
        --work-dir work_dirs/ablation_shapesml
    python tools/benchmarks/ablation_shapesml.py \\
        --teachers work_dirs/shapesml_teacher/shapesml-clip-rn.pt \\
                   work_dirs/shapesml_teacher_seed1/shapesml-clip-rn.pt \\
        --work-dir work_dirs/ablation_shapesml \\
        --rows global_labels ccd ccd_script crop_oracle_labels \\
               ground_truth_labels
"""
import argparse
import contextlib
import hashlib
import json
import os
import os.path as osp
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Dict, List, Optional

# Registers the components (also in the spawned workers, which import this
# module) and silences mmcv-lite's warning about compiled ops.
import ccd_mm  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
ROW_CONFIGS = {
    'global_labels': 'configs/shapes/ablation/global_labels.py',
    'debias': 'configs/shapes/ablation/debias.py',
    'label_update': 'configs/shapes/ablation/label_update.py',
    'update_only': 'configs/shapes/ablation/update_only.py',
    'update_consistency': 'configs/shapes/ablation/update_consistency.py',
    'without_update': 'configs/shapes/ablation/without_update.py',
    'ccd': 'configs/shapes/ccd_shapesml_paper.py',
    'ccd_script': 'configs/shapes/ccd_shapesml.py',
    'script_without_update':
    'configs/shapes/ablation/script_without_update.py',
    'script_global_labels': 'configs/shapes/ablation/script_global_labels.py',
    'script_update_only': 'configs/shapes/ablation/script_update_only.py',
    'script_label_update': 'configs/shapes/ablation/script_label_update.py',
    'script_update_consistency':
    'configs/shapes/ablation/script_update_consistency.py',
    'script_half_max_boxes':
    'configs/shapes/ablation/script_half_max_boxes.py',
    'script_cam_07': 'configs/shapes/ablation/script_cam_07.py',
    'script_cam_09': 'configs/shapes/ablation/script_cam_09.py',
    'script_fine_cam': 'configs/shapes/ablation/script_fine_cam.py',
    'script_paper_t': 'configs/shapes/ablation/script_paper_t.py',
    'script_sample_t': 'configs/shapes/ablation/script_sample_t.py',
    'dense_local_labels': 'configs/shapes/ablation/dense_local_labels.py',
    'dense_labels': 'configs/shapes/ablation/dense_labels.py',
    'script_dense_local_labels':
    'configs/shapes/ablation/script_dense_local_labels.py',
    'cdul': 'configs/shapes/ablation/cdul.py',
    'crop_oracle_labels': 'configs/shapes/ablation/crop_oracle_labels.py',
    'ground_truth_labels': 'configs/shapes/ablation/ground_truth_labels.py',
}
BASELINE = 'global_labels'
# Report only: they read the train split's ground truth.
HEADROOM_ROWS = ('crop_oracle_labels', 'ground_truth_labels')
METRIC = 'multi-label/mAP'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='CCD on ShapesML: headline with confidence intervals, '
        'headroom, ablation, label-update diagnosis, selection rules')
    parser.add_argument(
        '--teachers',
        nargs='+',
        default=['work_dirs/shapesml_teacher/shapesml-clip-rn.pt'],
        help='teacher weight files; the first is the main one, a second is '
        'the repeat with another teacher')
    parser.add_argument(
        '--teacher-config',
        default='configs/shapes/teacher/shapesml-clip-rn.json',
        help='open_clip model config of the teachers')
    parser.add_argument(
        '--backbone',
        default='work_dirs/shapesml_backbone/resnet18-quarter.pth',
        help='pretrained backbone (tools/shapesml/pretrain_backbone.py); '
        '"none" trains from scratch')
    parser.add_argument('--work-dir', default='work_dirs/ablation_shapesml')
    parser.add_argument(
        '--data-seeds',
        type=int,
        nargs='+',
        default=[0, 1],
        help='splits; the first is the main one, a second is the repeat')
    parser.add_argument('--num-train', type=int, default=2000)
    parser.add_argument('--num-test', type=int, default=1000)
    parser.add_argument(
        '--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    parser.add_argument(
        '--headroom-seeds',
        type=int,
        nargs='+',
        help='seeds of the report-only headroom rows (crop oracle, ground '
        'truth), a subset of --seeds: their gap to the baseline is large, '
        'fewer seeds measure it; default: the first two of --seeds')
    parser.add_argument(
        '--rows',
        nargs='+',
        choices=ROW_CONFIGS,
        default=['global_labels', 'ccd', 'ccd_script'],
        help='rows of the main split; default: the headline (the baseline '
        'and the two CCD presets), which with the repeats fits 90 minutes '
        'on 2 cores; add crop_oracle_labels ground_truth_labels for the '
        'report-only headroom rows (about 7 min more with 2 seeds) and any '
        'other row, e.g. script_without_update')
    parser.add_argument(
        '--repeat-rows',
        nargs='*',
        choices=ROW_CONFIGS,
        default=['global_labels', 'ccd_script'],
        help='rows of the repeats on the second split and with the second '
        'teacher: the baseline and the CCD preset whose label update works '
        'at this size (docs/results.md)')
    parser.add_argument(
        '--repeat-seeds',
        type=int,
        nargs='+',
        help='seeds of the repeats, a subset of --seeds: they ask whether '
        'the main split\'s sign holds elsewhere, a question three paired '
        'seeds answer in a third of the time; default: the first three '
        'of --seeds')
    parser.add_argument(
        '--epochs',
        type=int,
        default=6,
        help='schedule of every row instead of the configs\' 10 epochs, '
        'so that the ablation fits 2 CPU cores: the two warm-up epochs, the '
        'label update at the start of epoch 3, four epochs after it')
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument(
        '--threads', type=int, default=1, help='torch threads per job')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='smoke run: 40 train / 24 test images, 2 seeds, 3 epochs')
    parser.add_argument(
        '--finished-only',
        action='store_true',
        help='train nothing: report the runs of these settings that '
        'finished in --work-dir (an ablation stopped early)')
    parser.add_argument('--json-out', help='also write the JSON here')
    args = parser.parse_args(argv)
    if args.quick:
        args.num_train, args.num_test = 40, 24
        args.seeds = args.seeds[:2]
        args.epochs = 3
    if args.headroom_seeds is None:
        args.headroom_seeds = args.seeds[:2]
    if args.repeat_seeds is None:
        args.repeat_seeds = args.seeds[:3]
    for name in ('headroom_seeds', 'repeat_seeds'):
        if not set(getattr(args, name)) <= set(args.seeds):
            parser.error(f'--{name.replace("_", "-")} must be a subset of '
                         '--seeds')
    if BASELINE not in args.rows:
        parser.error(f'--rows must include the baseline {BASELINE}')
    return args


def experiments(args) -> List[dict]:
    """(name, data seed, teacher, rows, seeds) of each experiment."""
    plans = [
        dict(
            name='main',
            data_seed=args.data_seeds[0],
            teacher=args.teachers[0],
            rows=args.rows,
            seeds=args.seeds)
    ]
    repeats = []
    if len(args.data_seeds) > 1:
        repeats.append(('second_split', args.data_seeds[1], args.teachers[0]))
    if len(args.teachers) > 1:
        repeats.append(
            ('second_teacher', args.data_seeds[0], args.teachers[1]))
    if args.repeat_rows:
        plans += [
            dict(
                name=name,
                data_seed=data_seed,
                teacher=teacher,
                rows=args.repeat_rows,
                seeds=args.repeat_seeds)
            for name, data_seed, teacher in repeats
        ]
    return plans


def prepare_split(args, data_seed: int, root: str) -> None:
    """Generate the split unless ``root`` holds this one already."""
    from ccd_mm.datasets.shapesml_generator import (SHAPESML_VERSION,
                                                    generate_shapesml)
    wanted = dict(
        version=SHAPESML_VERSION,
        seed=data_seed,
        num_train=args.num_train,
        num_test=args.num_test,
        image_size=128)
    meta_file = osp.join(root, 'meta.json')
    if osp.isfile(meta_file):
        with open(meta_file) as file:
            meta = json.load(file)
        if all(meta.get(key) == value for key, value in wanted.items()):
            return
        shutil.rmtree(root)
    generate_shapesml(root, **{
        k: v
        for k, v in wanted.items() if k != 'version'
    })


@contextlib.contextmanager
def output_to(path: str):
    """Send everything written to stdout/stderr (the runner's logs and
    progress bars) to ``path``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, 'a') as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)


def run_config(job: dict):
    """The row's config pointed at this job's split, teacher, backbone,
    seed and work dir, recording what the report needs."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO / ROW_CONFIGS[job['row']]))
    if 'teacher' in cfg:
        # open_clip names a model after its config file's stem.
        cfg.teacher.model_name = Path(job['teacher_config']).stem
        cfg.teacher.model_config = osp.abspath(job['teacher_config'])
        cfg.teacher.pretrained = osp.abspath(job['teacher'])
    backbone = cfg.model.backbone
    backbone.init_cfg = (None if job['backbone'] == 'none' else dict(
        backbone.init_cfg, checkpoint=osp.abspath(job['backbone'])))
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        inner = loader.dataset.get('dataset', loader.dataset)
        inner.data_root = job['data_root']
        loader.num_workers = 0
        loader.persistent_workers = False
    hooks = cfg.default_hooks
    for hook in hooks.values():
        if hook is not None and 'num_workers' in hook:
            hook.num_workers = 0
    if 'label_update' in hooks and 'update_epochs' in hooks.label_update:
        hooks.label_update.record_proposals = True
    if job['selection'] and 'label_free_checkpoint' in hooks:
        hooks.label_free_checkpoint.record_scores = True
    # The label-free checkpoint is the only one this report reads.
    hooks.checkpoint = dict(
        type='CheckpointHook', interval=-1, save_last=False)
    hooks.logger.interval = 50
    if job['epochs']:
        cfg.train_cfg.max_epochs = job['epochs']
    if not job['selection']:
        # mmengine tests the last epoch whatever the interval.
        cfg.train_cfg.val_interval = cfg.train_cfg.max_epochs
    cfg.randomness = dict(seed=job['seed'], deterministic=False)
    cfg.work_dir = job['work_dir']
    cfg.experiment_name = osp.basename(job['work_dir'])
    return cfg


def train_job(job: dict) -> dict:
    """Train one row with one seed; in a process of its own. A run whose
    work dir holds the result of the same job is not trained again, so an
    interrupted ablation goes on where it stopped."""
    finished = finished_result(job)
    if finished is not None:
        return finished
    os.environ['OMP_NUM_THREADS'] = str(job['threads'])
    import torch
    torch.set_num_threads(job['threads'])
    from mmengine.runner import Runner
    start = time.time()
    os.makedirs(job['work_dir'], exist_ok=True)
    with output_to(osp.join(job['work_dir'], 'run.log')):
        runner = Runner.from_cfg(run_config(job))
        runner.train()
    test_curve = runner.message_hub.get_scalar(f'val/{METRIC}').data[0]
    result = dict(
        row=job['row'],
        seed=job['seed'],
        test_mAP=[round(float(v), 3) for v in test_curve],
        seconds=round(time.time() - start))
    result.update(run_report(runner, job))
    with open(osp.join(job['work_dir'], 'result.json'), 'w') as file:
        json.dump(dict(job=job, result=result), file)
    return result


def config_digest(row: str) -> str:
    """A digest of the row's merged config, bases included: a finished run
    is reused only while its config says what it said when it ran."""
    from mmengine.config import Config
    merged = Config.fromfile(str(REPO / ROW_CONFIGS[row])).to_dict()
    text = json.dumps(merged, sort_keys=True, default=repr)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def finished_result(job: dict) -> Optional[dict]:
    """The result a finished run of this very job left in its work dir."""
    result_file = osp.join(job['work_dir'], 'result.json')
    if not osp.isfile(result_file):
        return None
    with open(result_file) as file:
        saved = json.load(file)
    return saved['result'] if saved.get('job') == job else None


def run_report(runner, job: dict) -> dict:
    """What the run's labels, boxes and selection curve say, against the
    train split's ground truth (report only)."""
    import torch

    from ccd_mm.engine.hooks import LabelFreeCheckpointHook
    from ccd_mm.engine.pseudo_label_dataset_lookup import \
        find_pseudo_label_dataset
    from ccd_mm.evaluation import (cam_box_recall, pseudo_label_report,
                                   train_ground_truth)
    from ccd_mm.labeling import grown_boxes
    report = {}
    try:
        dataset = find_pseudo_label_dataset(runner)
    except TypeError:  # the ground-truth row has no pseudo-labels
        return report
    # The last stage is what the classifier trains on at the end.
    stages = dataset.target_transform.label_stages(dataset.label_table)
    quality = pseudo_label_report(stages, train_ground_truth(dataset),
                                  dataset.label_table.bias,
                                  dataset.label_table.valid,
                                  dataset.metainfo['classes'])
    report['label_mAP'] = {
        name: round(numbers['mAP'], 3)
        for name, numbers in quality['stages'].items()
    }
    selector = [
        h for h in runner.hooks if isinstance(h, LabelFreeCheckpointHook)
    ]
    if selector and selector[0].history:
        report['selection_curve'] = [round(v, 3) for v in selector[0].history]
    proposals = sorted(Path(job['work_dir']).glob('cam_proposals_*.json'))
    if proposals:
        with open(proposals[0]) as file:
            content = json.load(file)
        split = dataset.dataset
        infos = [split.get_data_info(i) for i in range(len(split))]
        view = content['view_size']
        recall = cam_box_recall(
            [torch.tensor(image['boxes']) for image in content['images']],
            [torch.tensor(image['classes']) for image in content['images']],
            grown_boxes([info['gt_bboxes'] for info in infos],
                        [(info['width'], info['height']) for info in infos],
                        view,
                        offset=0),
            [torch.as_tensor(info['gt_bboxes_labels'])
             for info in infos], [view] * len(infos))
        report['cam_boxes'] = dict(
            recall, class_threshold=content['class_threshold'])
        report['update_epoch'] = int(dataset.label_table.update_epoch)
    return report


def run_jobs(jobs: List[dict], num_processes: int) -> List[dict]:
    if num_processes <= 1:
        return [_announce(job, train_job(job)) for job in jobs]
    results = []
    with ProcessPoolExecutor(
            num_processes, mp_context=get_context('spawn')) as pool:
        for job, result in zip(jobs, pool.map(train_job, jobs)):
            results.append(_announce(job, result))
    return results


def _announce(job: dict, result: dict) -> dict:
    print(
        f'{job["experiment"]} {job["row"]} seed {job["seed"]}: test mAP '
        f'(last) {result["test_mAP"][-1]:.1f}, {result["seconds"]} s',
        file=sys.stderr)
    return dict(result, experiment=job['experiment'])


def _spread(values: List[float]) -> Optional[dict]:
    if not values:
        return None
    return dict(
        mean=sum(values) / len(values),
        min=min(values),
        max=max(values),
        values=values)


def summarize(runs: List[dict], experiment: str) -> dict:
    """Per row of one experiment: label and test mAP over the seeds, and the
    paired difference to the baseline."""
    from ccd_mm.evaluation import paired_difference
    by_row: Dict[str, Dict[int, dict]] = {}
    for run in runs:
        if run['experiment'] == experiment:
            by_row.setdefault(run['row'], {})[run['seed']] = run
    baseline = by_row.get(BASELINE, {})
    summary = {}
    for row, seeds in by_row.items():
        last = {seed: run['test_mAP'][-1] for seed, run in seeds.items()}
        labels = [
            list(run['label_mAP'].values())[-1] for run in seeds.values()
            if 'label_mAP' in run
        ]
        entry = dict(
            seeds=sorted(last),
            test_mAP_last=_spread(list(last.values())),
            label_mAP=_spread(labels))
        paired = sorted(set(last) & set(baseline))
        if row != BASELINE and paired:
            entry['difference_to_baseline'] = paired_difference(
                [last[seed] for seed in paired],
                [baseline[seed]['test_mAP'][-1] for seed in paired])
        summary[row] = entry
    return summary


def selection_regrets(runs: List[dict]) -> dict:
    """Per rule, over every run with a selection curve: the test mAP of the
    epoch the rule keeps against the best epoch's and the last epoch's."""
    from ccd_mm.core.early_stop import SELECTION_RULES, select_epoch
    rules = {}
    curves = [run for run in runs if run.get('selection_curve')]
    for rule in SELECTION_RULES:
        best, last, fired, epochs = [], [], [], []
        for run in curves:
            test = run['test_mAP']
            first = max(run.get('update_epoch', 0), 0)
            epoch, did_fire = select_epoch(run['selection_curve'], rule, first)
            best.append(max(test) - test[epoch])
            last.append(test[-1] - test[epoch])
            fired.append(did_fire)
            epochs.append(epoch + 1)
        rules[rule] = dict(
            regret_to_best=_spread(best),
            regret_to_last=_spread(last),
            fired=sum(fired),
            runs=len(fired),
            epochs=epochs)
    return rules


def _cell(numbers: Optional[dict], digits: int = 1) -> str:
    if numbers is None:
        return 'n/a'
    text = f'{numbers["mean"]:.{digits}f}'
    if len(numbers['values']) > 1:
        text += f' ({numbers["min"]:.{digits}f}-{numbers["max"]:.{digits}f})'
    return text


def _difference(numbers: Optional[dict]) -> str:
    if numbers is None:
        return '-'
    if numbers['n'] < 2:
        return f'{numbers["mean"]:+.1f}'
    return (f'{numbers["mean"]:+.1f} [{numbers["low"]:+.1f}, '
            f'{numbers["high"]:+.1f}]')


def markdown(result: dict) -> str:
    lines = []
    for name, rows in result['experiments'].items():
        if not rows:  # stopped before its first run (--finished-only)
            continue
        plan = result['plans'][name]
        seeds = rows.get(BASELINE, {}).get('seeds')
        lines += [
            f'### {name}: data seed {plan["data_seed"]}, teacher '
            f'{plan["teacher"]}, training seeds {seeds}', '',
            '| row | label mAP (train) | test mAP, last epoch | '
            'difference to baseline [95% CI] |', '|---|---|---|---|'
        ]
        for row, numbers in rows.items():
            if numbers['seeds'] != seeds:
                row = f'{row} (seeds {numbers["seeds"]})'
            lines.append(
                f'| {row} | {_cell(numbers["label_mAP"])} | '
                f'{_cell(numbers["test_mAP_last"])} | '
                f'{_difference(numbers.get("difference_to_baseline"))} |')
        lines.append('')
    diagnosis = [run for run in result['runs'] if 'cam_boxes' in run]
    if diagnosis:
        lines += [
            '### CAM boxes of the label update (train split, IoU >= 0.5)', '',
            '| experiment | row | seed | t | boxes / image | recall all / '
            'small / large | any class | whole | label mAP initial -> '
            'updated |', '|---|---|---|---|---|---|---|---|---|'
        ]
        for run in diagnosis:
            boxes, labels = run['cam_boxes'], run['label_mAP']
            lines.append(
                f'| {run["experiment"]} | {run["row"]} | {run["seed"]} | '
                f'{boxes["class_threshold"]:.3f} | '
                f'{boxes["proposals"]["boxes_per_image"]:.2f} | '
                f'{boxes["all"]["recall"]:.0f} / '
                f'{boxes["small"]["recall"]:.0f} / '
                f'{boxes["large"]["recall"]:.0f} | '
                f'{boxes["all"]["recall_any_class"]:.0f} | '
                f'{boxes["all"]["whole"]:.0f} | '
                f'{labels.get("debiased", 0):.1f} -> '
                f'{labels.get("updated", 0):.1f} |')
        lines.append('')
    lines += [
        '### Label-free selection rules (test mAP of the kept epoch)', '',
        '| rule | regret to the best epoch | regret to the last epoch | '
        'fired |', '|---|---|---|---|'
    ]
    for rule, numbers in result['selection'].items():
        lines.append(f'| {rule} | {_cell(numbers["regret_to_best"])} | '
                     f'{_cell(numbers["regret_to_last"])} | '
                     f'{numbers["fired"]}/{numbers["runs"]} |')
    return '\n'.join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    start = time.time()
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    plans = experiments(args)
    for plan in plans:
        plan['data_root'] = osp.join(work_dir, f'data_seed{plan["data_seed"]}')
        prepare_split(args, plan['data_seed'], plan['data_root'])
    # Seed by seed, every experiment: stopped early, the ablation has the
    # same seeds of every row (and a rerun with those --seeds reports them).
    jobs = []
    for seed in args.seeds:
        for plan in plans:
            if seed not in plan['seeds']:
                continue
            for row in plan['rows']:
                if row in HEADROOM_ROWS and seed not in args.headroom_seeds:
                    continue
                jobs.append(
                    dict(
                        experiment=plan['name'],
                        row=row,
                        config_digest=config_digest(row),
                        seed=seed,
                        data_root=plan['data_root'],
                        teacher=plan['teacher'],
                        teacher_config=args.teacher_config,
                        backbone=args.backbone,
                        epochs=args.epochs,
                        threads=args.threads,
                        selection=plan['name'] == 'main'
                        and row not in (BASELINE, ) + HEADROOM_ROWS,
                        work_dir=osp.join(work_dir, plan['name'],
                                          f'{row}_seed{seed}')))
    if args.finished_only:
        finished = [(job, finished_result(job)) for job in jobs]
        runs = [_announce(job, result) for job, result in finished if result]
        print(
            f'{len(jobs) - len(runs)} of {len(jobs)} runs not finished, '
            'left out',
            file=sys.stderr)
    else:
        runs = run_jobs(jobs, args.jobs)
    result = dict(
        plans={plan['name']: plan
               for plan in plans},
        experiments={
            plan['name']: summarize(runs, plan['name'])
            for plan in plans
        },
        selection=selection_regrets(runs),
        runs=runs,
        settings=dict({
            k: v
            for k, v in vars(args).items() if k != 'json_out'
        }),
        wall_seconds=round(time.time() - start))
    print(markdown(result))
    line = json.dumps(result)
    if args.json_out:
        with open(args.json_out, 'w') as file:
            file.write(line + '\n')
    print(line)
    return result


if __name__ == '__main__':
    main()
