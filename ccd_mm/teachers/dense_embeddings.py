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

Both take the positional embedding as an argument so a caller can pass one
resized to the input's token grid (:mod:`.positional_embedding`).
"""
import torch
import torch.nn.functional as F
from open_clip.modified_resnet import ModifiedResNet
from open_clip.transformer import VisionTransformer
from torch import Tensor, nn


def resnet_dense_embeddings(visual: ModifiedResNet, pixels: Tensor,
                            positional_embedding: Tensor) -> Tensor:
    """``(N, h, w, D)`` embeddings of a ModifiedResNet's last feature map.

    Args:
        visual (ModifiedResNet): the image tower.
        pixels (Tensor): ``(N, 3, H, W)`` normalised input.
        positional_embedding (Tensor): ``(1 + h * w, width)`` attention-pool
            embedding for this input's grid (class-token row first).

    Returns:
        Tensor: per-location embeddings in the output space of the
        attention pool, unnormalised.
    """
    features = visual.stem(pixels)
    for layer in (visual.layer1, visual.layer2, visual.layer3, visual.layer4):
        features = layer(features)
    batch, _, rows, cols = features.shape
    tokens = features.flatten(2).transpose(1, 2)
    tokens = tokens + positional_embedding[1:].to(tokens.dtype)
    pool = visual.attnpool
    values = F.linear(tokens, pool.v_proj.weight, pool.v_proj.bias)
    embeddings = F.linear(values, pool.c_proj.weight, pool.c_proj.bias)
    return embeddings.reshape(batch, rows, cols, -1)


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


def vit_dense_embeddings(visual: VisionTransformer, pixels: Tensor,
                         positional_embedding: Tensor) -> Tensor:
    """``(N, h, w, D)`` embeddings of a CLIP ViT's patch tokens.

    Args:
        visual (VisionTransformer): the image tower of a CLIP model (class
            token, no attentional pooler).
        pixels (Tensor): ``(N, 3, H, W)`` normalised input.
        positional_embedding (Tensor): ``(1 + h * w, width)`` embedding for
            this input's patch grid (class-token row first).

    Returns:
        Tensor: per-patch embeddings after the final norm and projection,
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
    if not batch_first:
        tokens = tokens.transpose(0, 1)
    # The class token's row plays no part: each token attends to itself.
    tokens = visual.ln_post(_value_path(blocks[-1], tokens[:, 1:]))
    if visual.proj is not None:
        tokens = tokens @ visual.proj
    return tokens.reshape(batch, rows, cols, -1)


def dense_embeddings(visual: nn.Module, pixels: Tensor,
                     positional_embedding: Tensor) -> Tensor:
    """Per-location embeddings of an open_clip image tower, ``(N, h, w, D)``.

    Raises:
        TypeError: for towers other than ModifiedResNet and
            VisionTransformer (e.g. timm towers), whose value path this
            module does not know.
    """
    if isinstance(visual, ModifiedResNet):
        return resnet_dense_embeddings(visual, pixels, positional_embedding)
    if isinstance(visual, VisionTransformer):
        return vit_dense_embeddings(visual, pixels, positional_embedding)
    raise TypeError('dense class scores need an open_clip ModifiedResNet or '
                    f'VisionTransformer image tower, got '
                    f'{type(visual).__name__}')
