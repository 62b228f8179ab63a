"""mmcv-lite's "Fail to import MultiScaleDeformableAttention ... install mmcv
rather than mmcv-lite" warning is silenced wherever a user enters ccd_mm,
and no other warning is.

mmcv's transformer module emits it once per process, when mmpretrain's
models are first imported; `ccd_mm` installs its filter before that, so each
entry point must import ccd_mm first. The entries run in fresh children of
one probe process (``entry_point_warnings.py``).
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name('entry_point_warnings.py')
TOOLS = sorted(
    path for path in (REPO / 'tools').rglob('*.py')
    if "__name__ == '__main__'" in path.read_text())
CUSTOM_IMPORTS = "custom_imports = dict(imports=['ccd_mm'])\n"


@pytest.fixture(scope='module')
def shown(tmp_path_factory):
    """The warnings each entry showed, by entry."""
    folder = tmp_path_factory.mktemp('configs')
    (folder / 'custom_imports.py').write_text(CUSTOM_IMPORTS)
    (folder / 'no_imports.py').write_text('model = None\n')
    entries = ['import ccd_mm', f'config:{folder / "custom_imports.py"}'] + \
        [f'tool:{path}' for path in TOOLS] + [
            'check:other-message', 'check:mmcv-message-elsewhere',
            f'check:config:{folder / "no_imports.py"}'
        ]
    result = subprocess.run(
        [sys.executable, str(PROBE), *entries],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_every_tool_is_probed():
    names = {path.relative_to(REPO).as_posix() for path in TOOLS}
    assert {
        'tools/train.py', 'tools/test.py', 'tools/infer.py',
        'tools/shapesml/train_teacher.py'
    } <= names
    assert len(names) >= 15


def test_entry_points_do_not_show_the_mmcv_lite_warning(shown):
    for entry, messages in shown.items():
        if entry.startswith('check:'):
            continue
        assert not any('failed' in m for m in messages), (entry, messages)
        assert not any('MultiScaleDeformableAttention' in m
                       for m in messages), (entry, messages)


def test_the_filter_silences_that_message_alone(shown):
    # The same module's other messages, and the same message from another
    # module, are still shown.
    assert 'UserWarning: Fail to import ``SomethingElse``' in \
        shown['check:other-message']
    assert any('MultiScaleDeformableAttention' in m
               for m in shown['check:mmcv-message-elsewhere'])


def test_without_ccd_mm_mmpretrain_still_warns(shown):
    """Where nothing imports ccd_mm first the probe sees the warning (the
    checks above would pass vacuously if mmcv stopped warning)."""
    entry, = (e for e in shown if e.startswith('check:config:'))
    assert any('MultiScaleDeformableAttention' in m for m in shown[entry])
