"""setup.py: wheel and editable installs, ``.mim`` for ``mim train``, mmcv.

Installs go to temporary folders from a copy of the repository, so neither
the working tree nor the environment running the tests changes.
"""
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import venv
from importlib.metadata import Distribution, distributions
from pathlib import Path

import pytest

from tests.fixtures.tools import write_tiny_config

# Builds wheels and virtualenvs with pip.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# Left out of the copy: VCS data, run outputs and earlier build products.
ROOT_ONLY = {'.git', 'build', 'dist', 'data', 'work_dirs'}
ANYWHERE = shutil.ignore_patterns('__pycache__', '*.egg-info', '.mim')
PROBE_CONFIG = 'packaging_probe_tiny_resnet18.py'


def copy_repository(destination):

    def ignore(folder, names):
        ignored = set(ANYWHERE(folder, names))
        if Path(folder) == REPO:
            ignored |= ROOT_ONLY & set(names)
        return ignored

    shutil.copytree(REPO, destination, ignore=ignore)
    return destination


def run(command, **kwargs):
    """Run a command to success; its combined output is returned."""
    result = subprocess.run(
        list(map(str, command)),
        capture_output=True,
        text=True,
        timeout=180,
        **kwargs)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def pip_install(python, *args):
    """Install from local files only: no dependencies, no build downloads."""
    run([
        python, '-m', 'pip', 'install', '--no-deps', '--no-build-isolation',
        '--no-index', '--quiet', *args
    ])


@pytest.fixture(scope='module')
def wheel_install(tmp_path_factory):
    """``pip install --target`` of a copy that carries a probe config."""
    tmp = tmp_path_factory.mktemp('wheel_install')
    source = copy_repository(tmp / 'source')
    shutil.copy(write_tiny_config(tmp), source / 'configs' / PROBE_CONFIG)
    target = tmp / 'site'
    pip_install(sys.executable, '--target', target, source)
    return target


def test_wheel_ships_tools_and_configs(wheel_install):
    mim_root = wheel_install / 'ccd_mm' / '.mim'
    for relative in ('tools/train.py', 'tools/test.py', 'tools/dist_train.sh',
                     f'configs/{PROBE_CONFIG}'):
        path = mim_root / relative
        assert path.is_file() and not path.is_symlink(), relative
    shipped = (mim_root / 'tools' / 'train.py').read_text()
    assert shipped == (REPO / 'tools' / 'train.py').read_text()


def test_wheel_metadata_lists_runtime_requirements(wheel_install):
    dist_info, = wheel_install.glob('ccd_mm-*.dist-info')
    requires = Distribution.at(dist_info).requires
    names = {re.split('[<>=;]', r)[0] for r in requires}
    runtime = {
        'mmengine', 'mmpretrain', 'open_clip_torch', 'pillow', 'torch',
        'torchvision'
    }
    assert runtime <= names
    # pytest only comes with the [tests] extra.
    tests_extra = [r for r in requires if 'extra ==' in r]
    assert tests_extra == ['pytest; extra == "tests"']


def load_setup_module():
    spec = importlib.util.spec_from_file_location('ccd_mm_setup',
                                                  REPO / 'setup.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mmcv_lite_only_without_full_mmcv(tmp_path, monkeypatch):
    setup_module = load_setup_module()
    full_mmcv = any(d.metadata['Name'] == 'mmcv' for d in distributions())
    assert (setup_module.MMCV_LITE
            in setup_module.runtime_requirements()) is not full_mmcv

    # A full mmcv anywhere on the path must never be replaced by mmcv-lite.
    dist_info = tmp_path / 'mmcv-2.1.0.dist-info'
    dist_info.mkdir()
    metadata = 'Metadata-Version: 2.1\nName: mmcv\nVersion: 2.1.0\n'
    (dist_info / 'METADATA').write_text(metadata)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert setup_module.full_mmcv_installed()
    assert setup_module.MMCV_LITE not in setup_module.runtime_requirements()


def test_editable_install_links_tools_and_configs(tmp_path):
    source = copy_repository(tmp_path / 'source')
    # A venv that sees this environment's packages takes the editable
    # install, so the environment running the tests keeps its own.
    environment = tmp_path / 'venv'
    venv.create(environment, system_site_packages=True, with_pip=False)
    python = environment / 'bin' / 'python'
    pip_install(python, '-e', source)
    for folder in ('tools', 'configs'):
        link = source / 'ccd_mm' / '.mim' / folder
        assert link.is_symlink(), folder
        assert link.resolve() == (source / folder).resolve()
    find_ccd_mm = ('import importlib.util as u; '
                   'print(u.find_spec("ccd_mm").origin)')
    located = run([python, '-c', find_ccd_mm], cwd=tmp_path)
    assert Path(located.strip()) == source / 'ccd_mm' / '__init__.py'


def mim_environment(tmp_path, wheel_install):
    """Environment in which ``mim`` sees the wheel install first.

    openmim 0.3.9 imports ``pkg_resources``, which setuptools>=81 no longer
    ships; pip still vendors it, so a one-line alias stands in for it.
    """
    python_path = [str(wheel_install)]
    if importlib.util.find_spec('pkg_resources') is None:
        alias = tmp_path / 'pkg_resources_alias'
        alias.mkdir()
        (alias / 'pkg_resources.py').write_text(
            'import sys\n'
            'from pip._vendor import pkg_resources\n'
            'sys.modules[__name__] = pkg_resources\n')
        python_path.append(str(alias))
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        python_path + [p for p in [env.get('PYTHONPATH')] if p])
    return env


@pytest.mark.skipif(
    importlib.util.find_spec('mim') is None,
    reason='openmim is not installed (it is not a test requirement: its '
    'dependencies downgrade setuptools and requests)')
def test_mim_train_finds_our_tool_and_config(wheel_install, tmp_path):
    work_dir = tmp_path / 'work'
    command = [
        sys.executable, '-m', 'mim', 'train', 'ccd_mm', PROBE_CONFIG,
        '--work-dir', work_dir
    ]
    output = run(
        command, cwd=tmp_path, env=mim_environment(tmp_path, wheel_install))
    mim_root = (wheel_install / 'ccd_mm' / '.mim').resolve()
    assert f'{mim_root / "tools" / "train.py"} ' \
        f'{mim_root / "configs" / PROBE_CONFIG}' in output
    assert (work_dir / 'epoch_1.pth').is_file()
