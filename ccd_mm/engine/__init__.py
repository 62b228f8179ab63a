from . import hooks  # noqa: F401
from .cpu_distributed import prepare_cpu_distributed
from .pseudo_label_dataset_lookup import build_pseudo_label_dataset
from .trusted_checkpoint import (TRUSTED_SCHEME, load_from_trusted,
                                 trusted_checkpoint_path)
