"""The frozen CLIP teacher of CCD and CDUL (docs/method.md, section 1)."""
from pathlib import Path
from typing import Optional, Sequence

import open_clip
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from open_clip.constants import (IMAGENET_MEAN, IMAGENET_STD,
                                 OPENAI_DATASET_MEAN, OPENAI_DATASET_STD)
from torch import Tensor, nn
from torch.func import functional_call

from ccd_mm.datasets.prompt_templates import checked_prompt_templates
from ccd_mm.structures import as_unit_range, stack_by_shape
from .clip_checkpoint import load_clip_model
from .dense_embeddings import pooled_and_dense_embeddings
from .positional_embedding import (native_grid, positional_embedding_name,
                                   resize_positional_embedding, token_grid)

# Pixel mean/std presets: CLIP's own, and ImageNet's as the released CCD
# script uses (docs/method.md, section 1).
NORMALIZATIONS = dict(
    clip=(OPENAI_DATASET_MEAN, OPENAI_DATASET_STD),
    imagenet=(IMAGENET_MEAN, IMAGENET_STD),
)


@MODELS.register_module()
class CLIPTeacher(nn.Module):
    """Frozen CLIP zero-shot classifier: images to class probabilities.

    Implements the teacher of CCD Eq. 1-2 (docs/method.md, section 1): class
    text
    embeddings ``w_c`` from prompt templates, and for an image
    ``p = softmax(logit_scale * <normalise(E_img(x)), w_c>)`` over the classes.
    Any open_clip model works; inputs may be larger or smaller than the
    model's native size (CCD runs CLIP RN50x64 at 640 x 640).

    Args:
        model_name (str): open_clip model name, e.g. ``'RN50x64-quickgelu'``
            (OpenAI weights need the ``-quickgelu`` names).
        pretrained (str): path to a weight file, or an open_clip pretrained
            tag (e.g. ``'openai'``) whose weights are already in the local
            open_clip / Hugging Face cache. Nothing is ever downloaded.
        class_names (Sequence[str]): class names, in label order.
        templates (Sequence[str]): prompt templates with one ``{}`` for the
            class name; embeddings are averaged over templates. Default
            ``('a photo of the {}.',)``; see ``PROMPT_TEMPLATES``.
        model_config (str, optional): path of an open_clip model-config JSON
            registered with ``open_clip.add_model_config`` before building;
            its file stem must be ``model_name``. Default None (built-ins).
        normalization (str): pixel mean/std preset, ``'clip'`` (CLIP's,
            default) or ``'imagenet'`` (the released CCD script's).
        batch_size (int): images per forward pass of the image tower and
            prompts per pass of the text tower. Default 32.
        device (str, optional): device of the model. Default: ``'cuda'`` if
            available, else ``'cpu'``.
        autocast_dtype (str): autocast precision on CUDA, ``'float16'``
            (released script) or ``'bfloat16'``. CPU runs in fp32. Default
            ``'float16'``.
        cache_dir (str, optional): open_clip download cache searched for a
            tag's weights. Default None (open_clip's defaults).

    Notes:
        The positional embedding of the image tower (attention pool of a
        ModifiedResNet, patch grid of a ViT) is resized bilinearly to the
        token grid of each input, class token kept; at the native size the
        model runs exactly as open_clip's ``encode_image``. Inputs should be
        multiples of the stride (32) or patch size. The teacher stays in eval
        mode with gradients off, whatever ``train()`` is called with.
    """

    def __init__(self,
                 model_name: str,
                 pretrained: str,
                 class_names: Sequence[str],
                 templates: Sequence[str] = ('a photo of the {}.', ),
                 model_config: Optional[str] = None,
                 normalization: str = 'clip',
                 batch_size: int = 32,
                 device: Optional[str] = None,
                 autocast_dtype: str = 'float16',
                 cache_dir: Optional[str] = None):
        super().__init__()
        if normalization not in NORMALIZATIONS:
            raise ValueError(
                f'normalization must be one of '
                f'{sorted(NORMALIZATIONS)}, got {normalization!r}')
        if not class_names:
            raise ValueError('class_names must not be empty')
        if model_config is not None:
            self._register_model_config(model_name, model_config)
        self.class_names = tuple(class_names)
        self.templates = checked_prompt_templates(templates)
        self.normalization = normalization
        self.batch_size = batch_size
        self.autocast_dtype = getattr(torch, autocast_dtype)
        device = device or ('cuda' if torch.cuda.is_available() else 'cpu')

        self.clip = load_clip_model(model_name, pretrained, cache_dir)
        self.clip.requires_grad_(False)
        mean, std = NORMALIZATIONS[normalization]
        self.register_buffer(
            'pixel_mean', torch.tensor(mean).view(3, 1, 1), persistent=False)
        self.register_buffer(
            'pixel_std', torch.tensor(std).view(3, 1, 1), persistent=False)
        self.to(device).eval()
        tokenizer = open_clip.get_tokenizer(model_name, cache_dir=cache_dir)
        self.register_buffer(
            'class_embeddings',
            self._class_text_embeddings(tokenizer),
            persistent=False)

    @staticmethod
    def _register_model_config(model_name: str, model_config: str) -> None:
        if Path(model_config).stem != model_name:
            raise ValueError(
                f'open_clip names a config file after its stem: '
                f'{model_config!r} does not define model {model_name!r}')
        open_clip.add_model_config(model_config)

    @property
    def num_classes(self) -> int:
        """Number of classes C."""
        return self.class_embeddings.shape[0]

    def train(self, mode: bool = True) -> 'CLIPTeacher':
        # Frozen teacher: BatchNorm statistics and dropout stay in eval
        # behaviour even when a parent module switches to training.
        return super().train(False)

    @torch.no_grad()
    def _class_text_embeddings(self, tokenizer) -> Tensor:
        """``(C, D)`` template-averaged class embeddings (docs/method.md).

        Each prompt is encoded and L2-normalised, the templates of a class
        are averaged, and the mean is L2-normalised again.
        """
        prompts = [
            template.format(name) for name in self.class_names
            for template in self.templates
        ]
        device = self.pixel_mean.device
        tokens = tokenizer(prompts)
        embeddings = torch.cat([
            self.clip.encode_text(chunk.to(device)).float()
            for chunk in tokens.split(self.batch_size)
        ])
        embeddings = F.normalize(embeddings, dim=-1)
        embeddings = embeddings.view(
            len(self.class_names), len(self.templates), -1).mean(dim=1)
        return F.normalize(embeddings, dim=-1)

    def _resized_positional_embedding(self, pixels: Tensor):
        """(parameter name, embedding fitted to the input's token grid), or
        (None, None) for a tower without one."""
        visual = self.clip.visual
        name = positional_embedding_name(visual)
        if name is None:
            return None, None
        return name, resize_positional_embedding(
            visual.get_parameter(name), native_grid(visual),
            token_grid(visual, *pixels.shape[-2:]))

    def _encode_image(self, pixels: Tensor) -> Tensor:
        """Image-tower features, positional embedding fitted to the input."""
        name, pos_embed = self._resized_positional_embedding(pixels)
        if name is None:
            return self.clip.visual(pixels)
        return functional_call(self.clip.visual, {name: pos_embed}, (pixels, ))

    def _encode_pooled_and_dense(self, pixels: Tensor):
        """``(N, D)`` pooled and ``(N, h, w, D)`` per-location features of
        one trunk pass (see dense_embeddings); a tower without a value path
        is named by ``pooled_and_dense_embeddings``."""
        _, pos_embed = self._resized_positional_embedding(pixels)
        return pooled_and_dense_embeddings(self.clip.visual, pixels, pos_embed)

    def _run_tower(self, encode, images: Tensor):
        """``encode`` on normalised pixels, under autocast on CUDA, its
        tensor (or tuple of tensors) cast back to the class embeddings'
        dtype."""
        device = self.class_embeddings.device
        # uint8 views cross to the GPU as bytes and become floats there.
        pixels = (as_unit_range(images.to(device)) -
                  self.pixel_mean) / self.pixel_std
        with torch.autocast(
                device.type,
                dtype=self.autocast_dtype,
                enabled=device.type == 'cuda'):
            features = encode(pixels)
        # Back from autocast's half precision to the class embeddings'
        # dtype: float32, or float64 for a teacher converted with .double().
        dtype = self.class_embeddings.dtype
        if isinstance(features, tuple):
            return tuple(feature.to(dtype) for feature in features)
        return features.to(dtype)

    def probs_of_embeddings(self, embeddings: Tensor) -> Tensor:
        """Softmax over the classes of image embeddings ``(..., D)`` (CCD
        Eq. 1-2): of a whole view, a location of the dense map, or a mean of
        locations (a box pooled on the map).

        Returns:
            Tensor: ``(..., C)`` probabilities in the class embeddings'
            dtype.
        """
        dtype = self.class_embeddings.dtype
        features = F.normalize(
            embeddings.to(self.class_embeddings.device, dtype), dim=-1)
        logits = self.clip.logit_scale.exp().to(dtype) * (
            features @ self.class_embeddings.T)
        return logits.softmax(dim=-1)

    def _classify(self, images: Tensor) -> Tensor:
        return self.probs_of_embeddings(
            self._run_tower(self._encode_image, images))

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        """Class probabilities of a batch of images (CCD Eq. 1-2).

        Args:
            images (Tensor): ``(N, 3, H, W)`` RGB, float in ``[0, 1]`` or
                uint8, any size (ideally multiples of the model's stride or
                patch size).

        Returns:
            Tensor: ``(N, C)`` float32 softmax probabilities (float64 for a
            teacher converted with ``.double()``) on the device of
            ``images``, computed in chunks of ``batch_size``.
        """
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(
                f'expected images of shape (N, 3, H, W), got {images.shape}')
        if len(images) == 0:
            return images.new_zeros(
                0, self.num_classes, dtype=self.class_embeddings.dtype)
        probs = [
            self._classify(chunk) for chunk in images.split(self.batch_size)
        ]
        return torch.cat(probs).to(images.device)

    @torch.no_grad()
    def pooled_and_dense_embeddings(self, images: Tensor):
        """The image embedding of :meth:`forward` and the per-location
        embeddings of MaskCLIP's value path
        (:mod:`~ccd_mm.teachers.dense_embeddings`), from one trunk pass.

        A ModifiedResNet gives one location per 32 px of input, a ViT one
        per patch; the positional embedding is resized to the input's grid
        as for :meth:`forward`. :meth:`probs_of_embeddings` classifies an
        embedding, a location or a mean over locations.

        Args:
            images (Tensor): ``(N, 3, H, W)`` as for :meth:`forward`.

        Returns:
            tuple[Tensor, Tensor]: ``(N, D)`` and ``(N, h, w, D)``
            unnormalised embeddings, in :meth:`forward`'s dtype, on the
            device of ``images``.
        """
        if images.ndim != 4 or images.shape[1] != 3 or len(images) == 0:
            raise ValueError('expected images of shape (N, 3, H, W), N > 0, '
                             f'got {images.shape}')
        chunks = [
            self._run_tower(self._encode_pooled_and_dense, chunk)
            for chunk in images.split(self.batch_size)
        ]
        return tuple(
            torch.cat(parts).to(images.device) for parts in zip(*chunks))

    def dense_embeddings(self, images: Tensor) -> Tensor:
        """``(N, h, w, D)``: the per-location half of
        :meth:`pooled_and_dense_embeddings` (its pooled half costs the
        attention pool, or a ViT's last block, on top of the dense map)."""
        return self.pooled_and_dense_embeddings(images)[1]

    def global_and_dense_probs(self, images: Tensor):
        """Class probabilities of the whole view ``(N, C)``, equal to
        :meth:`forward`'s, and of every location ``(N, C, h, w)``, from one
        trunk pass: the softmax over the prompts of
        :meth:`pooled_and_dense_embeddings`."""
        pooled, dense = self.pooled_and_dense_embeddings(images)
        return (self.probs_of_embeddings(pooled),
                self.probs_of_embeddings(dense).permute(0, 3, 1, 2))

    def dense_probs(self, images: Tensor) -> Tensor:
        """``(N, C, h, w)``: the per-location half of
        :meth:`global_and_dense_probs`."""
        return self.global_and_dense_probs(images)[1]

    def label_views(self, views: Sequence[Tensor]) -> Tensor:
        """Class probabilities of views of different sizes (crops).

        Views of equal shape run together as one batch, so a list of crops
        costs one forward per distinct size rather than one per crop.

        Args:
            views (Sequence[Tensor]): ``(3, H, W)`` RGB tensors, float in
                ``[0, 1]`` or uint8.

        Returns:
            Tensor: ``(len(views), C)`` probabilities, in input order, on
            the device of the first view (CPU for no views), in the dtype of
            :meth:`forward`.
        """
        device = views[0].device if len(views) else torch.device('cpu')
        probs = torch.zeros(
            len(views),
            self.num_classes,
            dtype=self.class_embeddings.dtype,
            device=device)
        for positions, stacked in stack_by_shape(views):
            probs[positions.to(device)] = self(stacked)
        return probs
