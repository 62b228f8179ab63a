from . import hooks  # noqa: F401
from .checkpoint_loaders import (CHECKPOINT_SAFE_GLOBALS, TRUSTED_SCHEME,
                                 UntrustedCheckpointError,
                                 load_checkpoint_file, load_from_trusted)
from .classifier_checkpoint import (CheckpointMismatchError, check_class_names,
                                    load_classifier_weights,
                                    stored_class_names)
from .cpu_distributed import prepare_cpu_distributed
from .hook_config_lookup import find_hook_configs
from .pseudo_label_dataset_lookup import build_pseudo_label_dataset
