from typing import List


def find_hook_configs(cfg, hook_type: str) -> List[dict]:
    """The configs of the hooks of type ``hook_type`` a run of ``cfg``
    registers, in registration order.

    ccd_mm's configs name the method's hooks in ``default_hooks`` (so a
    config or ``--cfg-options`` changes one by name, e.g.
    ``default_hooks.label_update``); a config written from a stock one may
    list them in ``custom_hooks``. Both are searched.

    Args:
        cfg (mmengine.Config): a training config.
        hook_type (str): the registered name, e.g. 'CLIPInitialLabelHook'.

    Returns:
        list[dict]: the matching hook configs (the config's own objects, so
        changing one changes the config).
    """
    hooks = [
        hook for hook in (cfg.get('default_hooks') or {}).values()
        if hook is not None
    ] + list(cfg.get('custom_hooks') or [])
    return [
        hook for hook in hooks
        if isinstance(hook, dict) and hook.get('type') == hook_type
    ]
