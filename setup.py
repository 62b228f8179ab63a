"""Install ccd_mm and expose ``tools/`` and ``configs/`` to OpenMIM.

``mim train ccd_mm CONFIG`` looks for ``ccd_mm/.mim/tools/train.py`` and
``ccd_mm/.mim/configs/`` inside the installed package, so they are copied
there for a wheel (``pip install .``) and linked there for a legacy
``setup.py develop``, in the way mmpretrain's ``setup.py`` does it. A PEP 660
editable install (``pip install -e .``) gets them from
``editable_backend.py``, the build backend named in ``pyproject.toml``.
"""
import importlib.metadata
import os
import os.path as osp
import shutil
import site
import sys
import warnings
from setuptools import find_packages, setup

REPO_ROOT = osp.dirname(osp.abspath(__file__))
MIM_FOLDERS = ('tools', 'configs')
# mmpretrain's wheel depends on no mmcv at all; the CPU-only mmcv-lite is
# enough for its transforms. A full (compiled) mmcv provides the same module,
# so mmcv-lite is asked for only when no full mmcv is installed.
MMCV_LITE = 'mmcv-lite>=2.0.0,<2.4.0'


def read_version():
    """Read ``__version__`` without importing ccd_mm (which imports torch)."""
    namespace = {}
    with open(osp.join(REPO_ROOT, 'ccd_mm', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def read_readme():
    readme = osp.join(REPO_ROOT, 'README.md')
    if not osp.exists(readme):
        return ''
    with open(readme, encoding='utf-8') as f:
        return f.read()


def read_requirements(filename):
    """Requirement lines of ``requirements/<filename>``, comments dropped."""
    with open(osp.join(REPO_ROOT, 'requirements', filename)) as f:
        lines = [line.split('#')[0].strip() for line in f]
    return [line for line in lines if line]


def full_mmcv_installed():
    """Whether the environment being installed into has a full ``mmcv``.

    pip builds in an isolated environment whose ``sys.path`` hides the
    target's site-packages, so those are searched explicitly as well.
    """
    search_path = sys.path + site.getsitepackages()
    if site.ENABLE_USER_SITE:
        search_path.append(site.getusersitepackages())
    found = importlib.metadata.distributions(name='mmcv', path=search_path)
    return next(iter(found), None) is not None


def runtime_requirements():
    requirements = read_requirements('runtime.txt')
    if not full_mmcv_installed():
        requirements.append(MMCV_LITE)
    return requirements


def add_mim_extension():
    """Put ``tools/`` and ``configs/`` under ``ccd_mm/.mim/``.

    ``develop`` gets symlinks, so edits show up at once; building a wheel or
    an sdist gets copies, which ``MANIFEST.in`` packs. Other setup commands
    (``egg_info``, ``dist_info``, ``editable_wheel``) leave ``.mim`` alone.
    """
    if 'develop' in sys.argv:
        mode = 'symlink'
    elif 'bdist_wheel' in sys.argv or 'sdist' in sys.argv:
        mode = 'copy'
    else:
        return

    mim_root = osp.join(REPO_ROOT, 'ccd_mm', '.mim')
    os.makedirs(mim_root, exist_ok=True)
    for folder in MIM_FOLDERS:
        source = osp.join(REPO_ROOT, folder)
        # An unpacked sdist has no top-level tools/ or configs/; its .mim
        # copies are already the ones to install.
        if not osp.isdir(source):
            continue
        target = osp.join(mim_root, folder)
        if osp.islink(target) or osp.isfile(target):
            os.remove(target)
        elif osp.isdir(target):
            shutil.rmtree(target)

        if mode == 'symlink':
            try:
                os.symlink(osp.relpath(source, mim_root), target)
                continue
            except OSError:
                # Windows without the symlink privilege raises WinError 1314.
                warnings.warn(f'Cannot link {target}; copying {source}.')
        shutil.copytree(
            source,
            target,
            ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='ccd_mm',
        version=read_version(),
        description='Classifier-guided CLIP Distillation (CCD) for '
        'label-free multi-label classification, as an mmpretrain plugin',
        long_description=read_readme(),
        long_description_content_type='text/markdown',
        keywords='computer vision, multi-label classification, CLIP, '
        'knowledge distillation, unsupervised learning',
        packages=find_packages(
            exclude=('configs', 'configs.*', 'tools', 'tools.*', 'tests',
                     'tests.*')),
        include_package_data=True,
        python_requires='>=3.8',
        classifiers=[
            'Operating System :: OS Independent',
            'Programming Language :: Python :: 3',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
        install_requires=runtime_requirements(),
        extras_require={'tests': read_requirements('tests.txt')},
        zip_safe=False)
