"""Offline open_clip loading: a local file or a cached tag, never a download.

open_clip fetches a pretrained tag from the Hugging Face hub or, for OpenAI
tags, with urllib from a URL; without network that hangs for about 45 s
before failing. The teacher therefore resolves
``pretrained`` to a local file itself and fails at once, naming the file to
place and where, when there is none.
"""
import logging
import os
import pickle
import warnings
from typing import Dict, List, Optional

import open_clip
from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME
from open_clip.factory import load_state_dict
from open_clip.pretrained import (get_pretrained_cfg, has_hf_hub,
                                  list_pretrained_tags_by_model)
from torch import Tensor, nn

from ccd_mm.models.weight_file_errors import (TRUSTED_SCHEME,
                                              state_dict_mismatch,
                                              trust_advice,
                                              weights_only_refusal)
from .torchscript_archive import is_torchscript_archive, torchscript_state_dict

# open_clip's default download directory for URL (OpenAI) weights.
DEFAULT_URL_CACHE_DIR = os.path.expanduser('~/.cache/clip')


class _RandomInitWarningFilter(logging.Filter):
    """Drops open_clip's warning that a model was initialised randomly."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(
            'No pretrained weights loaded')


def create_model_without_weights(model_name: str, **kwargs) -> nn.Module:
    """``open_clip.create_model`` for a caller that sets the weights itself
    (from a TorchScript archive, or by training them).

    open_clip then warns on the root logger "No pretrained weights loaded
    ... Model initialized randomly": untrue when the caller loads weights
    next, expected when it trains them, and it reads like a failure. That
    one message is dropped during this call; every other is kept.

    Args:
        model_name (str): open_clip model name.
        **kwargs: further arguments of ``open_clip.create_model`` (no
            ``pretrained``).
    """
    root = logging.getLogger()
    random_init_filter = _RandomInitWarningFilter()
    root.addFilter(random_init_filter)
    try:
        return open_clip.create_model(model_name, **kwargs)
    finally:
        root.removeFilter(random_init_filter)


def _url_cache_file(url: str, cache_dir: Optional[str]) -> str:
    """Where open_clip stores a weight file downloaded from ``url``."""
    return os.path.join(cache_dir or DEFAULT_URL_CACHE_DIR,
                        os.path.basename(url))


def _cached_tag_files(tag_cfg: dict, cache_dir: Optional[str]) -> List[str]:
    """Local places where open_clip would have stored a tag's weights."""
    places = []
    if tag_cfg.get('file'):
        places.append(tag_cfg['file'])
    if tag_cfg.get('hf_hub') and has_hf_hub():
        from huggingface_hub import try_to_load_from_cache
        repo_id, filename = os.path.split(tag_cfg['hf_hub'])
        filename = filename or HF_WEIGHTS_NAME
        # open_clip prefers a safetensors copy when the hub has one.
        safe_name = (
            HF_SAFE_WEIGHTS_NAME if filename == HF_WEIGHTS_NAME else
            os.path.splitext(filename)[0] + '.safetensors')
        for name in (safe_name, filename):
            # Reads the local hub cache only: the HF_HUB_OFFLINE behaviour.
            cached = try_to_load_from_cache(repo_id, name, cache_dir=cache_dir)
            if isinstance(cached, str):
                places.append(cached)
    if tag_cfg.get('url'):
        places.append(_url_cache_file(tag_cfg['url'], cache_dir))
    return places


def _missing_tag_message(model_name: str, tag: str, tag_cfg: dict,
                         cache_dir: Optional[str]) -> str:
    sources = []
    if tag_cfg.get('url'):
        url = tag_cfg['url']
        sources.append(f'download {url} to {_url_cache_file(url, cache_dir)}')
    if tag_cfg.get('hf_hub'):
        repo_id = os.path.split(tag_cfg['hf_hub'])[0]
        sources.append(f'fetch https://huggingface.co/{repo_id} into the '
                       'Hugging Face hub cache'
                       f'{f" at {cache_dir}" if cache_dir else ""}')
    return (f'No local copy of the open_clip weights {model_name!r} / '
            f'{tag!r}, and the CLIP teacher never downloads. Either '
            f'{"; or ".join(sources)}; or place the weight file anywhere '
            "and pass pretrained='/path/to/file'.")


def resolve_clip_checkpoint(model_name: str,
                            pretrained: str,
                            cache_dir: Optional[str] = None) -> str:
    """Local weight file for an open_clip model, without touching the network.

    Args:
        model_name (str): open_clip model name (built-in or registered with
            ``open_clip.add_model_config``).
        pretrained (str): a path to a weight file, ``trusted://`` and a
            path, or an open_clip pretrained tag of ``model_name`` (e.g.
            ``'openai'``).
        cache_dir (str, optional): where open_clip caches downloads; None means
            its defaults (``~/.cache/clip`` for URLs, the HF hub cache).

    Returns:
        str: path of an existing weight file (without ``trusted://``).

    Raises:
        FileNotFoundError: ``pretrained`` looks like a path that does not
            exist, or is a tag whose weights are not in the local caches.
        ValueError: ``pretrained`` is neither a file nor a known tag.
    """
    if pretrained.startswith(TRUSTED_SCHEME):
        pretrained = pretrained[len(TRUSTED_SCHEME):]
        if not os.path.isfile(pretrained):
            raise FileNotFoundError(
                f'CLIP weight file {pretrained!r} (named trusted) does not '
                f'exist: place the checkpoint of {model_name!r} there.')
    if os.path.isfile(pretrained):
        return pretrained
    tag_cfg = get_pretrained_cfg(model_name, pretrained)
    if not tag_cfg:
        if os.sep in pretrained or os.path.splitext(pretrained)[1]:
            raise FileNotFoundError(
                f'CLIP weight file {pretrained!r} does not exist: place the '
                f'checkpoint of {model_name!r} there, or pass '
                "pretrained='/path/to/file'.")
        raise ValueError(
            f'pretrained={pretrained!r} is neither an existing file nor an '
            f'open_clip tag of {model_name!r} (its tags: '
            f'{list_pretrained_tags_by_model(model_name)}).')
    places = [
        place for place in _cached_tag_files(tag_cfg, cache_dir)
        if os.path.isfile(place)
    ]
    if not places:
        raise FileNotFoundError(
            _missing_tag_message(model_name, pretrained, tag_cfg, cache_dir))
    # open_clip only warns about this when it resolves the tag itself.
    tag_quick_gelu = tag_cfg.get('quick_gelu', False)
    if tag_quick_gelu != open_clip.get_model_config(model_name).get(
            'quick_gelu', False):
        warnings.warn(f'Weights {pretrained!r} were trained with quick_gelu='
                      f'{tag_quick_gelu} but model {model_name!r} differs; '
                      'OpenAI weights need the "-quickgelu" model names.')
    return places[0]


def _state_dict(checkpoint: str, trusted: bool) -> Dict[str, Tensor]:
    """The weights of a file as the teacher reads them: a TorchScript
    archive with TorchScript's loader, any other file as open_clip does,
    unpickled in full only when ``trusted``."""
    if is_torchscript_archive(checkpoint):
        return torchscript_state_dict(checkpoint)
    return load_state_dict(checkpoint, weights_only=not trusted)


def _model_with_weights(model_name: str, checkpoint: str, trusted: bool,
                        cache_dir: Optional[str]) -> nn.Module:
    """``model_name`` built on the CPU with the weights of ``checkpoint``,
    read as :func:`_state_dict` reads them."""
    if is_torchscript_archive(checkpoint):
        # What open_clip's load_checkpoint does with an OpenAI archive's
        # state dict, without handing the file to torch.load: its other
        # conversions are for MobileCLIP, custom text towers and resized
        # positional embeddings, none of which an OpenAI archive needs.
        model = create_model_without_weights(
            model_name, cache_dir=cache_dir, device='cpu')
        model.load_state_dict(torchscript_state_dict(checkpoint))
        return model
    return open_clip.create_model(
        model_name,
        pretrained=checkpoint,
        weights_only=not trusted,
        cache_dir=cache_dir,
        device='cpu')


def load_clip_model(model_name: str,
                    pretrained: str,
                    cache_dir: Optional[str] = None) -> nn.Module:
    """Build an open_clip model on the CPU and load its weights offline,
    running no code from the weight file unless it is named trusted.

    A TorchScript archive (OpenAI's ``.pt``) is read by ``torch.jit.load``;
    any other file by ``torch.load(weights_only=True)``, or unpickled in
    full when ``pretrained`` is ``trusted://PATH``.

    Args:
        model_name (str): open_clip model name.
        pretrained (str): weight file path, ``trusted://PATH`` or cached
            tag, see :func:`resolve_clip_checkpoint`.
        cache_dir (str, optional): open_clip download cache. Default None.

    Returns:
        nn.Module: the open_clip model in fp32 on the CPU.

    Raises:
        ValueError: naming the file and why it cannot be loaded; for a file
            that holds other objects than weights, how to trust it.
    """
    trusted = pretrained.startswith(TRUSTED_SCHEME)
    checkpoint = resolve_clip_checkpoint(model_name, pretrained, cache_dir)
    try:
        return _model_with_weights(model_name, checkpoint, trusted, cache_dir)
    # Whatever fails in reading or fitting the weights, one message.
    except Exception as error:
        raise ValueError(
            f'{checkpoint} cannot be loaded as the weights of the open_clip '
            f'model {model_name!r}: '
            f'{_unloadable_reason(model_name, checkpoint, trusted)}'
        ) from error


def _unloadable_reason(model_name: str, checkpoint: str, trusted: bool) -> str:
    """Why open_clip failed to load ``checkpoint`` into ``model_name``:
    not a weight file, or the weights of another architecture."""
    try:
        found = _state_dict(checkpoint, trusted)
    except pickle.UnpicklingError as error:
        return ('it holds other objects than weights, refused unrun '
                f'({weights_only_refusal(error)}); '
                f'{trust_advice(checkpoint)}')
    except Exception as error:
        return f'not a weight file ({type(error).__name__}: {error})'
    expected = create_model_without_weights(
        model_name, device='cpu').state_dict()
    mismatch = state_dict_mismatch(expected, found)
    return (f'the weights of another model: {mismatch}'
            if mismatch else 'its weights do not fit the model')
