"""One tiny CCD run shared by the tool tests (trained once per session).

One epoch on the ShapesML fixture of tests/test_engine/ccd_shapes_run.py,
with the CAM label update at the start of that epoch (so the checkpoint's
table holds updated labels and the update records its boxes), the
pseudo-label statistics hook, and a label cache made by
tools/make_pseudo_labels.py from the same config.
"""
from types import SimpleNamespace

from mmengine.runner import Runner

from ..test_engine.ccd_shapes_run import ccd_shapes_config, make_shapes_root
from .tool_fixtures import load_tool

_RUNS = {}


def shared_ccd_run(tmp_path_factory, teacher: dict) -> SimpleNamespace:
    """The run's ``config`` file, ``data_root``, ``work_dir``, ``runner``,
    ``checkpoint`` (epoch 1), ``boxes`` (the update's box records) and
    ``cache`` (label cache), built on first use."""
    if 'run' in _RUNS:
        return _RUNS['run']
    root = tmp_path_factory.mktemp('ccd_tool_run')
    data_root = make_shapes_root(root / 'data')
    cfg = ccd_shapes_config(
        data_root, teacher, str(root / 'work'), max_epochs=1)
    cfg.default_hooks.label_update.update_epochs = (0, )
    cfg.default_hooks.pseudo_label_stats = dict(type='PseudoLabelStatsHook')
    config = root / 'ccd_shapes_tiny.py'
    cfg.dump(str(config))
    runner = Runner.from_cfg(cfg)
    runner.train()
    cache = root / 'labels' / 'shapes_tiny_labels.pth'
    load_tool('make_pseudo_labels').main([str(config), '--out', str(cache)])
    _RUNS['run'] = SimpleNamespace(
        config=str(config),
        data_root=data_root,
        work_dir=root / 'work',
        runner=runner,
        checkpoint=str(root / 'work' / 'epoch_1.pth'),
        boxes=str(root / 'work' / 'cam_boxes_epoch_1.json'),
        cache=str(cache))
    return _RUNS['run']
