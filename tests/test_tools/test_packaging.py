"""Packaging: wheel and editable installs, ``mim train`` on both, mmcv.

Each install goes from a copy of the repository into a temporary virtualenv
that sees the packages of the environment running the tests, so neither the
working tree nor that environment changes, and the tests behave the same in
a virtualenv and in a global interpreter. The two installs are shared by the
module's tests (``install`` marker: ``-m "not install"`` leaves them out).
"""
import importlib.util
import os
import re
import shutil
import site
import socket
import subprocess
import venv
from importlib.metadata import Distribution, distributions
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.fixtures.tools import write_tiny_config

# Builds wheels and virtualenvs with pip.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# Left out of the copy: VCS data, run outputs and earlier build products.
ROOT_ONLY = {'.git', 'build', 'dist', 'data', 'work_dirs'}
ANYWHERE = shutil.ignore_patterns('__pycache__', '*.egg-info', '.mim')
PROBE_CONFIG = 'packaging_probe_tiny_resnet18.py'
MIM_INSTALLED = importlib.util.find_spec('mim') is not None


class Install(NamedTuple):
    python: Path
    source: Path
    site_packages: Path


def copy_repository(destination):

    def ignore(folder, names):
        ignored = set(ANYWHERE(folder, names))
        if Path(folder) == REPO:
            ignored |= ROOT_ONLY & set(names)
        # Virtualenvs, such as the one CI makes inside the clone.
        return ignored | {
            name
            for name in names if Path(folder, name, 'pyvenv.cfg').is_file()
        }

    shutil.copytree(REPO, destination, ignore=ignore)
    return destination


def run(command, **kwargs):
    """Run a command to success; its combined output is returned."""
    result = subprocess.run(
        list(map(str, command)),
        capture_output=True,
        text=True,
        timeout=600,
        **kwargs)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    return output


def virtualenv_over_this_environment(folder):
    """A virtualenv whose own site-packages comes first, then the ones of
    the interpreter running the tests (a ``.pth`` file lists them): pip and
    setuptools come from here and install there, and the installed ccd_mm
    finds torch and the rest without installing them again.

    ``system_site_packages`` would not do: it shows the base interpreter's
    packages, not those of the virtualenv the tests may run in.
    """
    venv.create(folder, with_pip=False)
    python = folder / 'bin' / 'python'
    own = Path(
        run([python, '-c',
             'import site; print(site.getsitepackages()[0])']).strip())
    ours = site.getsitepackages()
    if site.ENABLE_USER_SITE:
        ours.append(site.getusersitepackages())
    (own / 'tests_environment.pth').write_text('\n'.join(ours) + '\n')
    return python, own


def install(folder, probe_config, *pip_args):
    """Install a copy of the repository, with the probe config among its
    configs, from local files only: no dependencies, no build downloads."""
    source = copy_repository(folder / 'source')
    shutil.copy(probe_config, source / 'configs' / PROBE_CONFIG)
    python, site_packages = virtualenv_over_this_environment(folder / 'venv')
    run([
        python, '-m', 'pip', 'install', '--no-deps', '--no-build-isolation',
        '--no-index', '--quiet', *pip_args, source
    ])
    return Install(python, source, site_packages)


@pytest.fixture(scope='module')
def probe_config(tmp_path_factory):
    return write_tiny_config(tmp_path_factory.mktemp('probe'))


@pytest.fixture(scope='module')
def wheel_install(tmp_path_factory, probe_config):
    """``pip install .``: a wheel, tools and configs copied into it."""
    return install(tmp_path_factory.mktemp('wheel'), probe_config)


@pytest.fixture(scope='module')
def editable_install(tmp_path_factory, probe_config):
    """``pip install -e .``, the README's install (PEP 660)."""
    return install(tmp_path_factory.mktemp('editable'), probe_config, '-e')


@pytest.mark.install
def test_wheel_ships_tools_and_configs(wheel_install):
    mim_root = wheel_install.site_packages / 'ccd_mm' / '.mim'
    for relative in ('tools/train.py', 'tools/test.py', 'tools/dist_train.sh',
                     f'configs/{PROBE_CONFIG}'):
        path = mim_root / relative
        assert path.is_file() and not path.is_symlink(), relative
    shipped = (mim_root / 'tools' / 'train.py').read_text()
    assert shipped == (REPO / 'tools' / 'train.py').read_text()


@pytest.mark.install
def test_wheel_metadata_lists_runtime_requirements(wheel_install):
    dist_info, = wheel_install.site_packages.glob('ccd_mm-*.dist-info')
    requires = Distribution.at(dist_info).requires
    names = {re.split('[<>=;]', r)[0] for r in requires}
    runtime = {
        'mmengine', 'mmpretrain', 'open_clip_torch', 'pillow', 'torch',
        'torchvision'
    }
    assert runtime <= names
    # pytest and a setuptools that builds wheels come with [tests] only.
    tests_extra = {r.split(';')[0] for r in requires if 'extra ==' in r}
    assert tests_extra == {'pytest', 'setuptools>=70.1'}


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


@pytest.mark.install
def test_editable_install_imports_the_source_tree(editable_install, tmp_path):
    """The site-packages stub hands over to the source tree's package."""
    source_package = editable_install.source / 'ccd_mm'
    located = run([
        editable_install.python, '-c',
        'import ccd_mm, ccd_mm.core.bias as bias; '
        'print(ccd_mm.__file__, *ccd_mm.__path__, bias.__file__)'
    ],
                  cwd=tmp_path).split()
    assert located == [
        str(source_package / '__init__.py'),
        str(source_package),
        str(source_package / 'core' / 'bias.py')
    ]
    stub = editable_install.site_packages / 'ccd_mm'
    assert (stub / '__init__.py').is_file()
    # Nothing of the package itself is copied: edits apply at once.
    assert not (stub / 'core').exists()


@pytest.mark.install
def test_editable_install_points_mim_at_the_source_tree(
        editable_install, tmp_path):
    """``.mim`` holds launchers and configs that name the source files, so
    an edit of a tool or a config applies without reinstalling."""
    mim_root = editable_install.site_packages / 'ccd_mm' / '.mim'
    source = editable_install.source
    launched = mim_root / 'tools' / 'shapesml' / 'train_teacher.py'
    assert str(source / 'tools' / 'shapesml' / 'train_teacher.py') in \
        launched.read_text()
    help_text = run([editable_install.python, launched, '--help'],
                    cwd=tmp_path)
    assert '--max-minutes' in help_text
    load_config = ('import sys; from mmengine.config import Config; '
                   'print(Config.fromfile(sys.argv[1]).train_cfg.max_epochs)')
    pointer = mim_root / 'configs' / PROBE_CONFIG
    source_config = source / 'configs' / PROBE_CONFIG
    assert run([editable_install.python, '-c', load_config, pointer],
               cwd=tmp_path).split()[-1] == '1'
    source_config.write_text(source_config.read_text().replace(
        'max_epochs=1', 'max_epochs=3'))
    try:
        assert run([editable_install.python, '-c', load_config, pointer],
                   cwd=tmp_path).split()[-1] == '3'
    finally:
        source_config.write_text(source_config.read_text().replace(
            'max_epochs=3', 'max_epochs=1'))


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@pytest.mark.install
@pytest.mark.skipif(
    not MIM_INSTALLED,
    reason='openmim is not installed (the README says how; CI requires it)')
@pytest.mark.parametrize('processes', [1, 2])
@pytest.mark.parametrize('kind', ['editable', 'wheel'])
def test_mim_train_finds_our_tool_and_config(kind, processes, request,
                                             tmp_path):
    """``mim train ccd_mm CONFIG`` by the config's bare name, on one process
    and with ``--launcher pytorch --gpus 2`` (torch.distributed.launch,
    gloo on the CPU), after either install."""
    installed = request.getfixturevalue(f'{kind}_install')
    work_dir = tmp_path / 'work'
    command = [
        installed.python, '-m', 'mim', 'train', 'ccd_mm', PROBE_CONFIG,
        '--work-dir', work_dir
    ]
    if processes == 2:
        command += [
            '--launcher', 'pytorch', '--gpus', '2', '--port',
            free_port()
        ]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    output = run(command, cwd=tmp_path, env=env)

    mim_root = installed.site_packages / 'ccd_mm' / '.mim'
    assert f'{mim_root / "tools" / "train.py"} ' \
        f'{mim_root / "configs" / PROBE_CONFIG}' in output
    assert (work_dir / 'epoch_1.pth').is_file()
    assert f'Distributed training: {processes == 2}' in output
    if processes == 2:
        assert '--nproc_per_node=2' in output
        assert 'GPU number: 2' in output
