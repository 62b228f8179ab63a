"""Why a weight file cannot be loaded, in one line a user can act on."""
from typing import Mapping, Optional

# A path written after this scheme names a file the user trusts: it is
# unpickled in full, running any code it holds (checkpoints, teacher weights).
TRUSTED_SCHEME = 'trusted://'

# The parts of torch's weights_only refusals that are advice (to turn the
# check off or to allow-list what was found), not what the file holds.
_TORCH_ADVICE = ('Weights only load failed', 'Please file an issue',
                 'Check the documentation', '(1)', '(2)')
_UNPICKLER_ERROR = 'WeightsUnpickler error:'


def weights_only_refusal(error: Exception) -> str:
    """What a ``torch.load(weights_only=True)`` refusal found in the file,
    e.g. ``Unsupported global: GLOBAL io.open was not an allowed global by
    default``."""
    text = str(error)
    if _UNPICKLER_ERROR in text:
        text = text.split(_UNPICKLER_ERROR, 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reasons = [line for line in lines if not line.startswith(_TORCH_ADVICE)]
    return (reasons or lines or [text])[0].split('. Please use')[0]


def trust_advice(path: str) -> str:
    """What to do with a refused file one trusts, to follow the refusal."""
    return (f'nothing of it was run. If you trust its source, load it as '
            f'{TRUSTED_SCHEME}{path}, which unpickles it in full and runs any '
            'code it holds.')


def _shape(value) -> Optional[tuple]:
    shape = getattr(value, 'shape', None)
    return None if shape is None else tuple(shape)


def state_dict_mismatch(expected: Mapping,
                        found: Mapping,
                        examples: int = 3) -> Optional[str]:
    """What differs between a model's state dict and a file's weights.

    Args:
        expected (Mapping): the model's ``state_dict()``.
        found (Mapping): the weights read from the file.
        examples (int): names quoted per kind of difference. Defaults to 3.

    Returns:
        str | None: e.g. ``'1 of 62 weights with another shape:
        head.fc.weight (80, 512) in the file, (12, 512) in the model'``,
        with the weights missing from the file and those the model lacks,
        or None when every name and shape matches.
    """
    reshaped = [
        name for name in expected
        if name in found and _shape(found[name]) != _shape(expected[name])
    ]
    missing = [name for name in expected if name not in found]
    unexpected = [name for name in found if name not in expected]
    total = f'of {len(expected)} weights'
    parts = []
    if reshaped:
        parts.append(f'{len(reshaped)} {total} with another shape: ' +
                     ', '.join(f'{name} {_shape(found[name])} in the file, '
                               f'{_shape(expected[name])} in the model'
                               for name in reshaped[:examples]))
    if missing:
        parts.append(f'{len(missing)} {total} missing from the file: ' +
                     ', '.join(missing[:examples]))
    if unexpected:
        parts.append(f'{len(unexpected)} weights of the file unknown to the '
                     'model: ' + ', '.join(unexpected[:examples]))
    return '; '.join(parts) or None
