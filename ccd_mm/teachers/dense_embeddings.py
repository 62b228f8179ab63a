"""Per-location image embeddings of a CLIP tower from one forward pass.

MaskCLIP (Zhou et al., ECCV 2022) observed that the value path of CLIP's
last attention, applied to every spatial token instead of being pooled by
the query-key attention, maps each location into the joint image-text
space, so a location can be classified against the class prompts as a whole
image is. TagCLIP (AAAI 2024) builds training-free multi-label labels on
these scores.

* ModifiedResNet (OpenAI's RN50 ... RN50x64): the attention pool's value and
  output projections applied to every feature of the last stage, with its
  positional embedding added. The pooled output is a softmax-weighted mean
  of exactly these vectors plus the mean token's, so with uniform attention
  the mean of the map is the model's own image embedding.
* VisionTransformer: every block but the last as usual; in the last block
  each patch token attends only to itself, which leaves the value and output
  projections of the attention (its value path) with the block's residual
  and MLP; then the tower's final norm and projection per token.

Each also returns the tower's own pooled image embedding, computed from the
same trunk pass (a ModifiedResNet's attention pool on the same last-stage
features; a ViT's last block as usual on the same tokens), so global and
dense labels of one view cost one pass. Both take the positional embedding
as an argument so a caller can pass one resized to the input's token grid
(:mod:`.positional_embedding`).
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from open_clip.modified_resnet import ModifiedResNet
from open_clip.transformer import VisionTransformer
from torch import Tensor, nn
from torch.func import functional_call


def resnet_embeddings(visual: ModifiedResNet, pixels: Tensor,
                      positional_embedding: Tensor) -> Tuple[Tensor, Tensor]:
    """A ModifiedResNet's pooled ``(N, D)`` and per-location ``(N, h, w, D)``
    embeddings of its last feature map, from one trunk pass.

    Args:
        visual (ModifiedResNet): the image tower.
        pixels (Tensor): ``(N, 3, H, W)`` normalised input.
        positional_embedding (Tensor): ``(1 + h * w, width)`` attention-pool
            embedding for this input's grid (class-token row first).

    Returns:
        tuple[Tensor, Tensor]: the attention pool's output, as the tower's
        forward gives it with this positional embedding, and the value path
        per location, in the same output space; both unnormalised.
    """
    features = visual.stem(pixels)
    for layer in (visual.layer1, visual.layer2, visual.layer3, visual.layer4):
        features = layer(features)
    pool = visual.attnpool
    pooled = functional_call(pool,
                             {'positional_embedding': positional_embedding},
                             (features, ))
    batch, _, rows, cols = features.shape
    tokens = features.flatten(2).transpose(1, 2)
    tokens = tokens + positional_embedding[1:].to(tokens.dtype)
    values = F.linear(tokens, pool.v_proj.weight, pool.v_proj.bias)
    embeddings = F.linear(values, pool.c_proj.weight, pool.c_proj.bias)
    return pooled, embeddings.reshape(batch, rows, cols, -1)


def _value_path(block: nn.Module, tokens: Tensor) -> Tensor:
    """A ResidualAttentionBlock's output when every token attends only to
    itself (batch-first tokens)."""
    attention = block.attn
    dim = tokens.shape[-1]
    weight = attention.in_proj_weight[2 * dim:]
    bias = (
        attention.in_proj_bias[2 * dim:]
        if attention.in_proj_bias is not None else None)
    values = F.linear(block.ln_1(tokens), weight, bias)
    tokens = tokens + block.ls_1(attention.out_proj(values))
    return tokens + block.ls_2(block.mlp(block.ln_2(tokens)))


def vit_embeddings(visual: VisionTransformer, pixels: Tensor,
                   positional_embedding: Tensor) -> Tuple[Tensor, Tensor]:
    """A CLIP ViT's pooled ``(N, D)`` and per-patch ``(N, h, w, D)``
    embeddings, from one pass of every block but the last.

    Args:
        visual (VisionTransformer): the image tower of a CLIP model (class
            token, no attentional pooler).
        pixels (Tensor): ``(N, 3, H, W)`` normalised input.
        positional_embedding (Tensor): ``(1 + h * w, width)`` embedding for
            this input's patch grid (class-token row first).

    Returns:
        tuple[Tensor, Tensor]: the tower's own pooled output (the last block
        as usual, then open_clip's pooling and projection) and the patch
        tokens' value path after the final norm and projection; both
        unnormalised.
    """
    if getattr(visual, 'attn_pool', None) is not None:
        raise ValueError('dense embeddings need a ViT without an '
                         'attentional pooler (CoCa towers have one)')
    patches = visual.conv1(pixels)
    batch, _, rows, cols = patches.shape
    tokens = patches.flatten(2).transpose(1, 2)
    class_token = visual.class_embedding.to(tokens.dtype).expand(batch, 1, -1)
    tokens = torch.cat([class_token, tokens], dim=1)
    tokens = visual.ln_pre(tokens + positional_embedding.to(tokens.dtype))
    blocks = visual.transformer.resblocks
    batch_first = getattr(visual.transformer, 'batch_first', True)
    if not batch_first:
        tokens = tokens.transpose(0, 1)
    for block in blocks[:-1]:
        tokens = block(tokens)
    last = blocks[-1](tokens)
    if not batch_first:
        tokens, last = tokens.transpose(0, 1), last.transpose(0, 1)
    # open_clip's own pooling (class token or mean, final norm before or
    # after it) keeps the pooled output equal to the tower's forward.
    pooled, _ = visual._pool(last)
    # The class token's row plays no part: each token attends to itself.
    dense = visual.ln_post(_value_path(blocks[-1], tokens[:, 1:]))
    if visual.proj is not None:
        pooled, dense = pooled @ visual.proj, dense @ visual.proj
    return pooled, dense.reshape(batch, rows, cols, -1)


def pooled_and_dense_embeddings(
        visual: nn.Module, pixels: Tensor,
        positional_embedding: Tensor) -> Tuple[Tensor, Tensor]:
    """An open_clip image tower's pooled ``(N, D)`` and per-location
    ``(N, h, w, D)`` embeddings from one trunk pass.

    Raises:
        TypeError: for towers other than ModifiedResNet and
            VisionTransformer (e.g. timm towers), whose value path this
            module does not know.
    """
    if isinstance(visual, ModifiedResNet):
        return resnet_embeddings(visual, pixels, positional_embedding)
    if isinstance(visual, VisionTransformer):
        return vit_embeddings(visual, pixels, positional_embedding)
    raise TypeError('dense class scores need an open_clip ModifiedResNet or '
                    f'VisionTransformer image tower, got '
                    f'{type(visual).__name__}')
