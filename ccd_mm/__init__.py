"""ccd_mm: Classifier-guided CLIP Distillation for mmpretrain.

Importing the package registers every component in mmpretrain's registries,
so a config only needs ``custom_imports = dict(imports=['ccd_mm'])``.
"""
import warnings

# With mmcv-lite (no compiled ops), importing mmpretrain's models makes
# mmcv's transformer module warn that MultiScaleDeformableAttention is
# missing and that full mmcv should be installed. ccd_mm needs no mmcv op,
# so that one message is silenced, before the imports below trigger it;
# every other warning is left as it is.
warnings.filterwarnings(
    'ignore',
    message='Fail to import ``MultiScaleDeformableAttention``',
    category=UserWarning,
    module=r'mmcv\.cnn\.bricks\.transformer')

from . import core, datasets, engine, models, teachers  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__']
