"""Print, as JSON, the warnings each entry point shows when it starts.

    python entry_point_warnings.py ENTRY [ENTRY ...]

An entry is ``import ccd_mm``, ``config:PATH`` (mmengine loads the config,
whose ``custom_imports`` import ccd_mm) or ``tool:PATH`` (the tool's module
runs as a script would, up to its ``__main__`` block). After the entry,
mmpretrain's models are imported, as a runner does when it builds the model
(not after a tool that imports none of mmengine, mmpretrain, ccd_mm: it
never builds one).
The ``check:`` entries tell the probe works: ``check:config:PATH`` loads a
config that imports nothing (the warning must show), the others import
ccd_mm and then warn on purpose, to tell that only mmcv-lite's one message
is silenced.

Each entry runs in a child forked from this process, which has imported
torch, open_clip and mmengine but none of mmcv, mmpretrain and ccd_mm, so
every child imports those afresh, as a new process does, with the warning
filters a new process has; the heavy imports are paid once.
"""
import json
import os
import re
import runpy
import sys
import warnings

import mmengine.runner  # noqa: F401
import open_clip  # noqa: F401
import torch  # noqa: F401

FRESH_PACKAGES = ('mmcv', 'mmpretrain', 'ccd_mm')
# A message that is not mmcv-lite's, from the module that warns.
OTHER_MESSAGE = 'Fail to import ``SomethingElse``'
MMCV_LITE_MESSAGE = ('Fail to import ``MultiScaleDeformableAttention`` from '
                     '``mmcv.ops.multi_scale_deform_attn``')
MMCV_MODULE = 'mmcv.cnn.bricks.transformer'


def run_entry(entry: str) -> None:
    kind, _, target = entry.partition(':')
    if entry == 'import ccd_mm':
        import ccd_mm  # noqa: F401
    elif kind == 'config':
        from mmengine.config import Config
        Config.fromfile(target)
    elif kind == 'tool':
        # As `python tools/x.py` would, the tool's folder comes first.
        sys.path.insert(0, os.path.dirname(target))
        runpy.run_path(target, run_name='__entry_point_probe__')
        with open(target) as file:
            source = file.read()
        if not re.search(r'^\s*(from|import) (mmengine|mmpretrain|ccd_mm)\b',
                         source, re.MULTILINE):
            return  # a tool that never imports mmpretrain, lazily or not
    elif entry.startswith('check:config:'):
        from mmengine.config import Config
        Config.fromfile(entry[len('check:config:'):])
    elif kind == 'check':
        import ccd_mm  # noqa: F401, F811
        module = MMCV_MODULE if target == 'other-message' else 'user.module'
        message = OTHER_MESSAGE if target == 'other-message' else \
            MMCV_LITE_MESSAGE
        warnings.warn_explicit(message, UserWarning, 'probe.py', 1, module)
    else:
        raise ValueError(f'unknown entry {entry!r}')
    import mmpretrain.models  # noqa: F401


def shown_warnings(entry: str) -> list:
    """Run ``entry`` in a forked child; the warnings it showed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        shown = []
        status = 0
        try:
            for name in list(sys.modules):
                if name.split('.')[0] in FRESH_PACKAGES:
                    del sys.modules[name]
            warnings.showwarning = (
                lambda message, category, *args, **kwargs: shown.append(
                    f'{category.__name__}: {message}'))
            run_entry(entry)
        except BaseException as error:  # reported, not raised, in the child
            shown.append(f'entry failed: {error!r}')
            status = 1
        with os.fdopen(write_end, 'w') as pipe:
            json.dump(shown, pipe)
        os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        shown = json.load(pipe)
    os.waitpid(pid, 0)
    return shown


if __name__ == '__main__':
    print(json.dumps({entry: shown_warnings(entry) for entry in sys.argv[1:]}))
