from mmengine.config import Config

from ccd_mm.engine import find_hook_configs


def test_finds_named_default_hooks_and_custom_hooks():
    cfg = Config(
        dict(
            default_hooks=dict(
                checkpoint=None,
                logger=dict(type='LoggerHook'),
                initial_labels=dict(type='CLIPInitialLabelHook',
                                    view_size=64)),
            custom_hooks=[
                dict(type='CLIPInitialLabelHook', view_size=32),
                dict(type='PseudoLabelStatsHook'),
            ]))
    found = find_hook_configs(cfg, 'CLIPInitialLabelHook')
    assert [hook.view_size for hook in found] == [64, 32]
    # The config's own dicts: a tool that changes one changes the config.
    found[0].view_size = 96
    assert cfg.default_hooks.initial_labels.view_size == 96
    assert find_hook_configs(cfg, 'CAMLabelUpdateHook') == []


def test_a_config_without_hooks_has_none():
    assert find_hook_configs(Config(dict()), 'CLIPInitialLabelHook') == []
