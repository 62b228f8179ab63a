"""Build backend: setuptools' own, plus OpenMIM's lookup for editable installs.

``mim train ccd_mm CONFIG`` looks for ``ccd_mm/.mim/tools/train.py`` and
``ccd_mm/.mim/configs/`` in the folder that holds the installed
distribution's metadata: site-packages. A PEP 660
editable install (``pip install -e .``) leaves the package in the source
tree and puts only an import hook there, so mim found no ``train.py``.

The editable wheel therefore also carries a ``ccd_mm`` stub for
site-packages: its ``__init__.py`` loads the source tree's package in its
place, and its ``.mim/`` holds a launcher for every tool script and a config
for every config file, each pointing at the source file. Edits in the source
tree apply without reinstalling; added tools and configs need a reinstall.
Wheels and sdists are setuptools' (``setup.py`` copies the tools and configs
into them).
"""
import base64
import csv
import hashlib
import io
import zipfile
from pathlib import Path
from setuptools import build_meta
from setuptools.build_meta import *  # noqa: F401,F403

REPO_ROOT = Path(__file__).resolve().parent
PACKAGE = 'ccd_mm'

STUB_INIT = '''\
"""ccd_mm, installed in editable mode: the package is the source tree's.

OpenMMLab's tools look for the package next to its distribution's metadata;
this stub stands there and loads the source tree's package in its place.
"""
import importlib.util
import sys

_spec = importlib.util.spec_from_file_location(
    __name__, {init!r}, submodule_search_locations=[{package!r}])
_package = importlib.util.module_from_spec(_spec)
sys.modules[__name__] = _package
_spec.loader.exec_module(_package)
'''

TOOL_LAUNCHER = '''\
"""Runs {script} (ccd_mm is installed in editable mode)."""
import runpy
import sys

sys.path[0] = {folder!r}
runpy.run_path({script!r}, run_name='__main__')
'''

CONFIG_POINTER = '''\
# ccd_mm is installed in editable mode: the config is the source tree's.
_base_ = [{config!r}]
'''


def editable_stub(source_root: Path) -> dict:
    """Files of the site-packages stub, by their path in the wheel."""
    package = source_root / PACKAGE
    files = {
        f'{PACKAGE}/__init__.py':
        STUB_INIT.format(
            init=str(package / '__init__.py'), package=str(package))
    }
    for script in sorted((source_root / 'tools').rglob('*.py')):
        relative = script.relative_to(source_root).as_posix()
        files[f'{PACKAGE}/.mim/{relative}'] = TOOL_LAUNCHER.format(
            script=str(script), folder=str(script.parent))
    for config in sorted((source_root / 'configs').rglob('*.py')):
        relative = config.relative_to(source_root).as_posix()
        files[f'{PACKAGE}/.mim/{relative}'] = CONFIG_POINTER.format(
            config=str(config))
    return files


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return 'sha256=' + base64.urlsafe_b64encode(digest).rstrip(b'=').decode()


def add_to_wheel(wheel: Path, files: dict) -> None:
    """Add ``files`` (path -> text) to ``wheel`` and to its RECORD."""
    with zipfile.ZipFile(wheel) as archive:
        entries = {
            info.filename: archive.read(info)
            for info in archive.infolist()
        }
    record_name, = (
        name for name in entries if name.endswith('.dist-info/RECORD'))
    for name, text in files.items():
        entries[name] = text.encode()
    record = io.StringIO()
    writer = csv.writer(record, lineterminator='\n')
    for name, data in entries.items():
        if name != record_name:
            writer.writerow((name, record_hash(data), len(data)))
    writer.writerow((record_name, '', ''))
    entries[record_name] = record.getvalue().encode()
    # The metadata last and RECORD at the very end, as wheels are laid out.
    order = sorted(
        entries, key=lambda name: ('.dist-info/' in name, name == record_name))
    with zipfile.ZipFile(wheel, 'w', zipfile.ZIP_DEFLATED) as archive:
        for name in order:
            archive.writestr(name, entries[name])


def build_editable(wheel_directory,
                   config_settings=None,
                   metadata_directory=None):
    """PEP 660 hook: setuptools' editable wheel plus the stub."""
    name = build_meta.build_editable(wheel_directory, config_settings,
                                     metadata_directory)
    add_to_wheel(Path(wheel_directory, name), editable_stub(REPO_ROOT))
    return name
