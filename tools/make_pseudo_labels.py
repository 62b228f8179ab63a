"""Run the CLIP teacher over a config's training split once and save its
labels as a label cache.

The cache holds the teacher's raw global-view probabilities, the class bias
and the confident flags, with their provenance (teacher, weight-file hash,
prompts, templates, view size, normalisation, image-list hash). A training
config reads it instead of running the teacher again::

    python tools/make_pseudo_labels.py configs/ccd_voc12.py \\
        --out work_dirs/labels/voc12.pth
    python tools/train.py configs/ccd_voc12.py --cfg-options \\
        default_hooks.initial_labels.label_cache=work_dirs/labels/voc12.pth

The settings (teacher, view size, tau_H, batch size, workers) are those of
the config's ``CLIPInitialLabelHook``. The file is written atomically.
"""
import argparse
import inspect

from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmpretrain.registry import HOOKS, MODELS

# Importing ccd_mm registers its components in mmpretrain's registries.
import ccd_mm  # noqa: F401
from ccd_mm.engine import build_pseudo_label_dataset, find_hook_configs
from ccd_mm.engine.teacher_config import resolve_teacher_config
from ccd_mm.labeling import initial_label_fields, label_global_views
from ccd_mm.labeling.label_cache import label_provenance, write_label_cache


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Label a training split with the CLIP teacher once and '
        'write a label cache')
    parser.add_argument('config', help='training config file path')
    parser.add_argument('--out', required=True, help='label cache to write')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs such as '
        'default_hooks.initial_labels.batch_size=8; merged last')
    return parser.parse_args(argv)


def initial_label_settings(cfg) -> dict:
    """The arguments of the config's ``CLIPInitialLabelHook``, its defaults
    filled in and the teacher resolved; the hook itself is not built (this
    tool runs the teacher, it is not a training run)."""
    hooks = find_hook_configs(cfg, 'CLIPInitialLabelHook')
    if len(hooks) != 1:
        raise ValueError('the config needs exactly one CLIPInitialLabelHook '
                         f'in default_hooks or custom_hooks, found '
                         f'{len(hooks)}')
    arguments = {k: v for k, v in hooks[0].items() if k != 'type'}
    signature = inspect.signature(HOOKS.get('CLIPInitialLabelHook'))
    settings = signature.bind(**arguments)
    settings.apply_defaults()
    settings = dict(settings.arguments)
    settings['teacher'] = resolve_teacher_config(settings['teacher'], cfg)
    return settings


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    logger = MMLogger.get_instance('make_pseudo_labels')
    dataset = build_pseudo_label_dataset(cfg)
    settings = initial_label_settings(cfg)
    teacher_cfg = dataset.teacher_config(settings['teacher'])
    img_paths = dataset.image_paths()
    logger.info(f'Labeling {len(img_paths)} training images with the '
                f'teacher ({settings["view_size"]}px global view)')
    scores, decoded, _ = label_global_views(
        MODELS.build(teacher_cfg),
        img_paths,
        settings['view_size'],
        settings['batch_size'],
        settings['num_workers'],
        show_progress=True,
        decoder=dataset.image_decoder)
    fields, has_estimate = initial_label_fields(scores, decoded,
                                                settings['entropy_threshold'])
    provenance = label_provenance(teacher_cfg, settings['view_size'],
                                  img_paths)
    write_label_cache(args.out, fields, settings['entropy_threshold'],
                      provenance)
    logger.info(
        f'Wrote {args.out}: {int(fields["valid"].sum())}/{len(img_paths)} '
        f'images decoded, {int(fields["confident"].sum())} confident '
        f'(entropy <= {settings["entropy_threshold"]}), '
        f'{int((~has_estimate).sum())} classes without a bias estimate '
        '(b = 1)')


if __name__ == '__main__':
    main()
