"""CCD's ablation (CCD Table 2) reproduced on ShapesML, with CDUL and a
crop-oracle ceiling next to it.

On a ShapesML split that this script generates into ``--work-dir`` (fixed
data seed), every row is trained from the real configs through mmengine's
``Runner``, overriding only sizes, epochs, paths and time-saving settings
through ``Config``:

1. ``global``: the teacher's global-view labels, no debias
   (``DebiasPseudoLabel(debias=False)``), BCE only: no label update, no
   consistency (``configs/shapes/ccd_shapesml.py`` without
   ``CAMLabelUpdateHook`` and ``CCDWarmupHook``, weak view only).
2. ``debias``: 1 + the class-bias correction (CCD 3.3).
3. ``update``: 2 + the classifier-guided CAM label update (CCD 3.2), still
   without consistency.
4. ``ccd``: 3 + weak/strong consistency = ``configs/shapes/ccd_shapesml.py``.
5. ``cdul``: ``configs/shapes/cdul_shapesml.py``, with the label-free
   selector of CCD 4.1 added so that every row is selected the same way.
6. ``oracle``: the teacher on the ground-truth boxes (crop oracle of
   ``ccd_mm.evaluation.crop_oracle``, boxes grown and crops resized as
   the config's CAM update does): its pseudo-label mAP is the ceiling of
   what crops can give. It is not trained.

Rows 3-5 use the crops the methods propose (CAM boxes, the 3x3 grid),
never ground-truth boxes. Rows 1-3 feed the weak view only: without the
consistency term the strong view would only cost time (its logits get no
gradient) and shift BatchNorm statistics.

For each row: the pseudo-label mAP on the train split against its ground
truth (the labels the classifier trains on at the end: after the update for
rows 3-4, after gradient alignment for CDUL; ``ccd_mm.evaluation``, report
only), the test mAP of the label-free selected checkpoint
(``best_label_free.pth``) and of the last epoch, and the selected epoch.
The teacher labels the train split once per invocation (a label cache,
reused by rows 1-4 and every seed); CDUL's global + grid labeling runs in
each CDUL run (its hook has no cache). The teacher's weight file is copied
into the work dir first, so replacing it during a run changes nothing.

Schedule: the configs' 10 epochs (CCD: warm-up E_w = 2, label update at the
start of epoch 3; CDUL: 3 warm-up epochs). With ``--epochs E`` other than
the configs' 10, the warm-up and update epochs scale by E / 10 (rounded,
kept between 1 and E - 1). Every method hyper-parameter stays as the
configs set it, except the CAM update's class threshold t when
``--class-threshold`` is given (a number, or ``adaptive``: the released
script's calibration, ``--adaptive-bound``); view sizes and the box offset
scale with ``--image-size`` / 128 (identity at the default). The
classifier starts from the configs' pretrained backbone (``--backbone``,
tools/shapesml/pretrain_backbone.py, ShapesML's stand-in for ImageNet
weights). The defaults (960 train / 160
test images, 10 epochs, batch 8, seeds 0 and 1) take about 13 minutes on 2
idle CPU cores; docs/results.md has the table and what it shows.

Prints a markdown table (mean over seeds, min-max in brackets) and, last,
one JSON line. Example::

    python tools/benchmarks/ablation_shapesml.py \\
        --work-dir work_dirs/ablation_shapesml --seeds 0 1
"""
import argparse
import contextlib
import copy
import importlib.util
import json
import os
import os.path as osp
import shutil
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.registry import MODELS

# Importing ccd_mm registers its components in mmpretrain's registries.
import ccd_mm  # noqa: F401
from ccd_mm.core.early_stop import label_free_stop_epoch
from ccd_mm.datasets.shapesml_generator import (SHAPESML_VERSION,
                                                generate_shapesml)
from ccd_mm.engine.hooks import LabelFreeCheckpointHook
from ccd_mm.engine.pseudo_label_dataset_lookup import \
    find_pseudo_label_dataset
from ccd_mm.evaluation import (crop_oracle_probs, grown_boxes, load_split,
                               pseudo_label_report, pseudo_label_stages,
                               train_ground_truth)
from ccd_mm.engine import build_pseudo_label_dataset, find_hook_configs

REPO = Path(__file__).resolve().parents[2]
CCD_CONFIG = REPO / 'configs/shapes/ccd_shapesml.py'
CDUL_CONFIG = REPO / 'configs/shapes/cdul_shapesml.py'
BACKBONE = 'work_dirs/shapesml_backbone/resnet18-quarter.pth'
LABEL_TOOL = REPO / 'tools/make_pseudo_labels.py'

ROWS = ('global', 'debias', 'update', 'ccd', 'cdul', 'oracle')
ROW_TITLES = {
    'global': '(1) teacher global labels (no debias)',
    'debias': '(2) + debias',
    'update': '(3) + CAM label update',
    'ccd': '(4) + consistency = CCD',
    'cdul': '(5) CDUL',
    'oracle': '(6) oracle: teacher on GT boxes',
}
# The CCD config's hooks that each of rows 1-4 drops.
CCD_ROWS = {
    'global': ('CAMLabelUpdateHook', 'CCDWarmupHook'),
    'debias': ('CAMLabelUpdateHook', 'CCDWarmupHook'),
    'update': ('CCDWarmupHook', ),
    'ccd': (),
}
# Hook arguments that are pixel sizes on the 128 px ShapesML image.
SIZE_ARGS = ('view_size', 'crop_size', 'snippet_size', 'box_offset')
METRIC = 'multi-label/mAP'
NUMBERS = ('pseudo_label_mAP', 'test_mAP_label_free', 'test_mAP_last',
           'selected_epoch')


def class_threshold(text: str):
    """``--class-threshold``: ``'adaptive'`` or a float."""
    return text if text == 'adaptive' else float(text)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='CCD Table 2 ablation, CDUL and a crop oracle on '
        'ShapesML')
    parser.add_argument(
        '--teacher',
        default='work_dirs/shapesml_teacher/shapesml-clip-rn.pt',
        help='open_clip weight file of the teacher')
    parser.add_argument(
        '--teacher-config',
        default='configs/shapes/teacher/shapesml-clip-rn.json',
        help='open_clip model config; the model is named after its stem')
    parser.add_argument(
        '--backbone',
        default=BACKBONE,
        help='pretrained backbone checkpoint of the configs '
        '(tools/shapesml/pretrain_backbone.py); "none" trains from scratch')
    parser.add_argument('--work-dir', default='work_dirs/ablation_shapesml')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--num-train', type=int, default=960)
    parser.add_argument('--num-test', type=int, default=160)
    parser.add_argument('--image-size', type=int, default=128)
    parser.add_argument(
        '--data-seed', type=int, default=0, help='seed of the split')
    parser.add_argument('--epochs', type=int, default=10)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument(
        '--num-workers',
        type=int,
        default=0,
        help='data loader workers of training, testing and labeling')
    parser.add_argument(
        '--class-threshold',
        type=class_threshold,
        help='t of the CAM update (rows update, ccd): a number, or '
        '"adaptive" (the released script\'s calibration); default: the '
        'config\'s 0.5')
    parser.add_argument(
        '--adaptive-bound',
        type=float,
        default=4,
        help='with --class-threshold adaptive: mean selected classes per '
        'image in (bound, bound + 2) (released script: 4)')
    parser.add_argument(
        '--rows', nargs='+', choices=ROWS, default=list(ROWS))
    parser.add_argument('--json-out', help='also write the JSON here')
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error('--epochs must be >= 2: the label update and the '
                     'consistency term start after at least one epoch')
    return args


@contextlib.contextmanager
def output_to(path: str):
    """Send everything written to stdout/stderr (progress bars and logs of
    the runner included) to ``path``, so stdout keeps the table and JSON."""
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


def prepare_split(args, data_root: str) -> None:
    """Generate the split unless ``data_root`` already holds this one, made
    by this version of the generator."""
    wanted = dict(
        version=SHAPESML_VERSION,
        seed=args.data_seed,
        num_train=args.num_train,
        num_test=args.num_test,
        image_size=args.image_size)
    meta_file = osp.join(data_root, 'meta.json')
    if osp.isfile(meta_file):
        with open(meta_file) as file:
            meta = json.load(file)
        if all(meta.get(key) == value for key, value in wanted.items()):
            return
        shutil.rmtree(data_root)
    generate_shapesml(data_root,
                      **{k: v
                         for k, v in wanted.items() if k != 'version'})


def frozen_teacher(args, work_dir: str) -> dict:
    """The teacher config, its weights copied into the work dir first."""
    weights = osp.join(work_dir, 'teacher', osp.basename(args.teacher))
    os.makedirs(osp.dirname(weights), exist_ok=True)
    shutil.copyfile(args.teacher, weights)
    return dict(
        type='CLIPTeacher',
        model_name=Path(args.teacher_config).stem,
        model_config=osp.abspath(args.teacher_config),
        pretrained=osp.abspath(weights),
        normalization='clip')


def scaled_epoch(epoch: int, base_epochs: int, epochs: int) -> int:
    """An epoch of the configs' schedule on a schedule of ``epochs``."""
    if epochs == base_epochs:
        return epoch
    return min(max(round(epoch * epochs / base_epochs), 1), epochs - 1)


def _scale_resizes(node, scale: float) -> None:
    if isinstance(node, list):
        for item in node:
            _scale_resizes(item, scale)
    elif isinstance(node, dict):
        if node.get('type') == 'Resize' and 'scale' in node:
            node['scale'] = tuple(round(s * scale) for s in node['scale'])
        for value in node.values():
            _scale_resizes(value, scale)


def _pipelines(cfg: Config) -> list:
    return [
        cfg.train_dataloader.dataset.dataset.pipeline,
        cfg.val_dataloader.dataset.pipeline,
        cfg.test_dataloader.dataset.pipeline
    ]


def base_config(path: Path, args, data_root: str, teacher: dict,
                work_dir: str, seed: int) -> Config:
    """A config with this benchmark's data, sizes, schedule and teacher;
    the method's hyper-parameters untouched but for ``--class-threshold``."""
    cfg = Config.fromfile(str(path))
    base_epochs = cfg.train_cfg.max_epochs
    scale = args.image_size / cfg.image_size
    # The label hooks read the config's top-level teacher.
    cfg.teacher = teacher
    if args.backbone == 'none':
        cfg.model.backbone.init_cfg = None
    else:
        cfg.model.backbone.init_cfg.checkpoint = args.backbone
    for hook in cfg.default_hooks.values():
        for name in SIZE_ARGS:
            if name in hook:
                hook[name] = round(hook[name] * scale)
        if 'view_size' in hook:
            hook.num_workers = args.num_workers
        if 'warmup_epochs' in hook:
            hook.warmup_epochs = scaled_epoch(hook.warmup_epochs,
                                              base_epochs, args.epochs)
        if hook.type == 'CAMLabelUpdateHook' and \
                args.class_threshold is not None:
            hook.class_threshold = args.class_threshold
            hook.adaptive_bound = args.adaptive_bound
        if 'update_epochs' in hook:
            hook.update_epochs = tuple(
                scaled_epoch(e, base_epochs, args.epochs)
                for e in hook.update_epochs)
    for pipeline in _pipelines(cfg):
        _scale_resizes(pipeline, scale)
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        inner = loader.dataset.get('dataset', loader.dataset)
        inner.data_root = data_root
        # Serialising the data list (and its gc.collect()) only pays off
        # with many workers; it costs ~1 s per dataset here.
        inner.serialize_data = False
        loader.num_workers = args.num_workers
        loader.persistent_workers = args.num_workers > 0
    cfg.train_dataloader.batch_size = args.batch_size
    cfg.train_cfg.max_epochs = args.epochs
    # Test mAP is measured once per checkpoint after training.
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    # The last epoch is tested from memory and the label-free hook saves its
    # own checkpoint: no per-epoch checkpoints.
    cfg.default_hooks.checkpoint = None
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.work_dir = work_dir
    cfg.experiment_name = osp.basename(work_dir)
    return cfg


def ccd_row_config(row: str, cfg: Config, label_cache: str) -> Config:
    """Row 1-4 from the CCD config (see the module docstring)."""
    cfg = copy.deepcopy(cfg)
    dropped = CCD_ROWS[row]
    for name, hook in list(cfg.default_hooks.items()):
        if hook is not None and hook.type in dropped:
            del cfg.default_hooks[name]
    cfg.default_hooks.initial_labels.label_cache = label_cache
    if row in ('global', 'debias'):
        cfg.train_dataloader.dataset.target_transform = dict(
            type='DebiasPseudoLabel', debias=row == 'debias')
    if 'CCDWarmupHook' in dropped:
        # The weak view alone: CCD 3.4's augmentation without the strong view.
        pipeline = cfg.train_dataloader.dataset.dataset.pipeline
        at = [t.type for t in pipeline].index('MultiView')
        cfg.train_dataloader.dataset.dataset.pipeline = (
            pipeline[:at] + list(pipeline[at].transforms[0]) +
            pipeline[at + 1:])
    return cfg


def cdul_row_config(cfg: Config) -> Config:
    """Row 5: CDUL's config with CCD's label-free selector added."""
    cfg = copy.deepcopy(cfg)
    cfg.default_hooks.label_free_checkpoint = dict(
        type='LabelFreeCheckpointHook',
        view_size=cfg.default_hooks.label_update.view_size,
        num_workers=cfg.train_dataloader.num_workers)
    return cfg


def _load_tool(path: Path):
    """Import a tool script (tools/ is not a package) as a module."""
    spec = importlib.util.spec_from_file_location(f'ccd_mm_{path.stem}',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_teacher_labels(cfg: Config, path: str) -> None:
    """Label the train split with the teacher once, with
    tools/make_pseudo_labels.py: the label cache rows 1-4 of every seed
    read."""
    config_file = osp.join(cfg.work_dir, 'teacher_labels_config.py')
    os.makedirs(cfg.work_dir, exist_ok=True)
    cfg.dump(config_file)
    _load_tool(LABEL_TOOL).main([config_file, '--out', path])


def crop_oracle_report(cfg: Config, data_root: str) -> dict:
    """Row 6: pseudo-label quality of the teacher on the train split's
    ground-truth boxes, grown and resized as the CAM update's boxes."""
    dataset = build_pseudo_label_dataset(cfg)
    update = find_hook_configs(cfg, 'CAMLabelUpdateHook')[0]
    paths, records = load_split(data_root, 'train')
    if [osp.normpath(p) for p in paths] != [
            osp.normpath(p) for p in dataset.image_paths()
    ]:
        raise RuntimeError('the annotation file and the dataset list the '
                           'training images in different orders')
    teacher = MODELS.build(dataset.teacher_config(cfg.teacher))
    boxes = grown_boxes(records, update.view_size, update.box_offset)
    oracle = crop_oracle_probs(teacher, paths, boxes, update.view_size,
                               update.crop_size)
    num_classes = oracle.shape[1]
    return pseudo_label_report(
        dict(oracle=oracle), train_ground_truth(dataset),
        torch.ones(num_classes), torch.ones(len(paths), dtype=torch.bool),
        dataset.metainfo['classes'])


def _label_stages(dataset) -> Dict[str, torch.Tensor]:
    table = dataset.label_table
    if 'initial_labels' in table.fields:  # CDUL (CDULInitialLabelHook)
        return dict(
            initial=table.global_scores.clone(),
            aggregated=table.fields['initial_labels'].clone(),
            aligned=dataset.current_targets())
    return pseudo_label_stages(table, dataset.target_transform)


def train_row(cfg: Config) -> dict:
    """Train one row, test its last and its label-free checkpoint."""
    runner = Runner.from_cfg(cfg)
    runner.train()
    dataset = find_pseudo_label_dataset(runner)
    stages = _label_stages(dataset)
    report = pseudo_label_report(stages, train_ground_truth(dataset),
                                 dataset.label_table.bias,
                                 dataset.label_table.valid,
                                 dataset.metainfo['classes'])
    selector = [
        h for h in runner.hooks if isinstance(h, LabelFreeCheckpointHook)
    ][0]
    # The selector's fallback (the rule never fired: the last epoch kept in
    # after_train) is numbered runner.epoch + 1, one past the last epoch,
    # because the runner has advanced its epoch by then; its checkpoint is
    # the last epoch's.
    fired = label_free_stop_epoch(selector.history) is not None
    # Loading the selected checkpoint below restores the selector's state
    # saved with it: read the whole curve first.
    curve = [round(value, 2) for value in selector.history]
    last = runner.test()[METRIC]
    if fired:
        runner.load_checkpoint(osp.join(cfg.work_dir, selector.filename))
        label_free = runner.test()[METRIC]
    else:  # the selected checkpoint holds the last epoch's weights
        label_free = last
    stage_map = {
        name: numbers['mAP']
        for name, numbers in report['stages'].items()
    }
    result = dict(
        pseudo_label_mAP=stage_map[list(stages)[-1]],
        pseudo_label_stages=stage_map,
        test_mAP_label_free=float(label_free),
        test_mAP_last=float(last),
        selected_epoch=(selector.selected_epoch
                        if fired else cfg.train_cfg.max_epochs),
        rule_fired=fired,
        selection_curve=curve)
    return result


def spread(values: List[float]) -> Optional[dict]:
    """Mean, min and max of the seeds' values (None without values)."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return dict(
        mean=sum(values) / len(values),
        min=min(values),
        max=max(values),
        values=values)


def summarize(runs: Dict[str, List[dict]]) -> Dict[str, dict]:
    """Per row: each number of ``NUMBERS`` over the seeds."""
    summary = {}
    for row, results in runs.items():
        summary[row] = {
            name: spread([r.get(name) for r in results])
            for name in NUMBERS
        }
        stages = {}
        for result in results:
            for stage, value in result.get('pseudo_label_stages', {}).items():
                stages.setdefault(stage, []).append(value)
        summary[row]['pseudo_label_stages'] = {
            stage: spread(values)
            for stage, values in stages.items()
        }
        summary[row]['runs'] = results
    return summary


def _cell(numbers: Optional[dict], digits: int = 1) -> str:
    if numbers is None:
        return 'n/a'
    text = f'{numbers["mean"]:.{digits}f}'
    if len(numbers['values']) > 1:
        text += (f' ({numbers["min"]:.{digits}f}-'
                 f'{numbers["max"]:.{digits}f})')
    return text


def markdown_table(summary: Dict[str, dict], num_seeds: int) -> str:
    lines = [
        f'mean over {num_seeds} training seed(s), (min-max) across seeds',
        '', '| row | pseudo-label mAP (train) | test mAP, label-free ckpt '
        '| test mAP, last epoch | label-free epoch (rule fired) |',
        '|---|---|---|---|---|'
    ]
    for row, numbers in summary.items():
        fired = [run['rule_fired'] for run in numbers['runs']
                 if 'rule_fired' in run]
        epoch = _cell(numbers['selected_epoch'])
        if fired:
            epoch += f' ({sum(fired)}/{len(fired)})'
        lines.append(f'| {ROW_TITLES[row]} '
                     f'| {_cell(numbers["pseudo_label_mAP"])} '
                     f'| {_cell(numbers["test_mAP_label_free"])} '
                     f'| {_cell(numbers["test_mAP_last"])} '
                     f'| {epoch} |')
    return '\n'.join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    start = time.time()
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    log_file = osp.join(work_dir, 'ablation.log')
    data_root = osp.join(work_dir, 'data')
    prepare_split(args, data_root)
    teacher = frozen_teacher(args, work_dir)
    label_cache = osp.join(work_dir, 'teacher_labels.pth')

    def config(path, row, seed):
        return base_config(path, args, data_root, teacher,
                           osp.join(work_dir, f'{row}_seed{seed}'), seed)

    runs: Dict[str, List[dict]] = {row: [] for row in args.rows}
    with output_to(log_file):
        ccd_cfg = config(CCD_CONFIG, 'labels', 0)
        write_teacher_labels(ccd_cfg, label_cache)
        if 'oracle' in runs:
            report = crop_oracle_report(ccd_cfg, data_root)
            runs['oracle'].append(
                dict(pseudo_label_mAP=report['stages']['oracle']['mAP']))
    for seed in args.seeds:
        for row in args.rows:
            if row == 'oracle':
                continue
            row_start = time.time()
            with output_to(log_file):
                if row == 'cdul':
                    cfg = cdul_row_config(config(CDUL_CONFIG, row, seed))
                else:
                    cfg = ccd_row_config(row, config(CCD_CONFIG, row, seed),
                                         label_cache)
                result = train_row(cfg)
            result.update(seed=seed, seconds=round(time.time() - row_start))
            runs[row].append(result)
            print(
                f'{row} seed {seed}: pseudo-label mAP '
                f'{result["pseudo_label_mAP"]:.1f}, test mAP label-free '
                f'{result["test_mAP_label_free"]:.1f} (epoch '
                f'{result["selected_epoch"]}), last '
                f'{result["test_mAP_last"]:.1f}, {result["seconds"]} s',
                file=sys.stderr)
    summary = summarize(runs)
    output = dict(
        rows=summary,
        settings=dict(
            {k: v
             for k, v in vars(args).items() if k != 'json_out'},
            spread='min-max over training seeds'),
        wall_seconds=round(time.time() - start))
    print(markdown_table(summary, len(args.seeds)))
    line = json.dumps(output)
    if args.json_out:
        with open(args.json_out, 'w') as file:
            file.write(line + '\n')
    print(line)
    return output


if __name__ == '__main__':
    main()
