"""Dense (per-location) CLIP scores: MaskCLIP's value path on the tiny towers.

Comparisons run in float64 (``CLIPTeacher.double()``) at ``FLOAT64_NETWORK``:
the dense path and open_clip's own forward compute the same quantities
through other kernels and shapes (tests/fixtures/tolerances.py).
"""
import pytest
import torch

from ccd_mm.teachers import CLIPTeacher
from ccd_mm.teachers.dense_embeddings import pooled_and_dense_embeddings
from tests.fixtures.tolerances import FLOAT64_NETWORK

CLASS_NAMES = ['cat', 'dog', 'bicycle', 'person']


def float64_teacher(tiny_clip):
    return CLIPTeacher(
        **tiny_clip, class_names=CLASS_NAMES, device='cpu').double()


def images(*size, n=2, seed=0):
    """float64 images of float32 values: the teacher reads its input as
    float32 (uint8 or float views), so a hand computation from these
    pixels sees the same numbers."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, *size, generator=generator).double()


@pytest.mark.parametrize('tower, size, grid', [
    ('tiny_clip_resnet', (64, 64), (2, 2)),
    ('tiny_clip_resnet', (128, 96), (4, 3)),
    ('tiny_clip_vit', (64, 64), (4, 4)),
    ('tiny_clip_vit', (96, 128), (6, 8)),
])
def test_dense_probs_shape_and_softmax(request, tower, size, grid):
    teacher = float64_teacher(request.getfixturevalue(tower))
    embeddings = teacher.dense_embeddings(images(*size))
    assert embeddings.shape == (2, *grid, teacher.class_embeddings.shape[1])
    probs = teacher.dense_probs(images(*size))
    assert probs.shape == (2, len(CLASS_NAMES), *grid)
    torch.testing.assert_close(
        probs.sum(dim=1),
        torch.ones(2, *grid, dtype=torch.float64),
        rtol=0,
        atol=FLOAT64_NETWORK)
    # A location's probabilities are the softmax of its own embedding.
    torch.testing.assert_close(
        probs[1, :, 0, 1],
        teacher.probs_of_embeddings(embeddings[1, 0, 1]),
        rtol=0,
        atol=FLOAT64_NETWORK)


@pytest.mark.parametrize('tower, size', [
    ('tiny_clip_resnet', (64, 64)),
    ('tiny_clip_resnet', (128, 96)),
    ('tiny_clip_vit', (64, 64)),
    ('tiny_clip_vit', (96, 128)),
])
def test_global_half_of_the_one_pass_is_the_forward(request, tower, size):
    """The pooled half of the shared pass is the tower's own forward, at the
    native size and with the positional embedding resized; its dense half is
    the dense map alone."""
    teacher = float64_teacher(request.getfixturevalue(tower))
    pixels = images(*size)
    global_probs, dense_probs = teacher.global_and_dense_probs(pixels)
    torch.testing.assert_close(
        global_probs, teacher(pixels), rtol=0, atol=FLOAT64_NETWORK)
    torch.testing.assert_close(
        dense_probs, teacher.dense_probs(pixels), rtol=0, atol=FLOAT64_NETWORK)


def test_one_pass_runs_the_trunk_once(tiny_clip_resnet, tiny_clip_vit):
    for tiny_clip, trunk_end in ((tiny_clip_resnet, 'layer4'),
                                 (tiny_clip_vit, 'transformer.resblocks.0')):
        teacher = float64_teacher(tiny_clip)
        calls = []
        teacher.clip.visual.get_submodule(trunk_end).register_forward_hook(
            lambda *_: calls.append(1))
        teacher.global_and_dense_probs(images(64, 64))
        assert len(calls) == 1


@pytest.mark.parametrize('size', [(64, 64), (128, 96)])
def test_resnet_pool_of_uniform_attention_is_the_mean_of_the_map(
        tiny_clip_resnet, size):
    """The attention pool is a softmax-weighted mean of the value path over
    the mean token and every location. With the query projection zeroed every
    weight is equal, and with the positional embedding zeroed the mean
    token's value is the mean of the locations' (the projections are
    affine), so the model's own embedding is the mean of the dense map; at
    128 x 96 this also runs the resized (zero) embedding."""
    teacher = float64_teacher(tiny_clip_resnet)
    pool = teacher.clip.visual.attnpool
    with torch.no_grad():
        pool.q_proj.weight.zero_()
        pool.q_proj.bias.zero_()
        pool.positional_embedding.zero_()
    pixels = images(*size)
    dense = teacher.dense_embeddings(pixels)
    pooled = teacher._run_tower(teacher._encode_image, pixels)
    torch.testing.assert_close(
        dense.mean(dim=(1, 2)), pooled, rtol=0, atol=FLOAT64_NETWORK)
    torch.testing.assert_close(
        teacher.probs_of_embeddings(dense.mean(dim=(1, 2))),
        teacher(pixels),
        rtol=0,
        atol=FLOAT64_NETWORK)


def test_resnet_dense_map_uses_the_positional_embedding(tiny_clip_resnet):
    teacher = float64_teacher(tiny_clip_resnet)
    pixels = images(64, 64)
    before = teacher.dense_embeddings(pixels)
    with torch.no_grad():
        teacher.clip.visual.attnpool.positional_embedding[1:] += 1
    assert (teacher.dense_embeddings(pixels) - before).abs().max() > 1e-3


def _open_clip_self_attention_tokens(visual, pixels):
    """open_clip's own ViT forward with the last block's attention masked to
    the diagonal (each token attends to itself): its patch tokens after the
    final norm and projection."""
    blocks = visual.transformer.resblocks
    tokens = visual._embeds(pixels)
    for block in blocks[:-1]:
        tokens = block(tokens)
    length = tokens.shape[1]
    mask = torch.full((length, length), float('-inf'), dtype=tokens.dtype)
    mask.fill_diagonal_(0)
    tokens = blocks[-1](tokens, attn_mask=mask)
    return visual.ln_post(tokens[:, 1:]) @ visual.proj


def test_vit_dense_map_is_the_last_block_with_self_attention(tiny_clip_vit):
    teacher = float64_teacher(tiny_clip_vit)
    visual = teacher.clip.visual
    assert visual.transformer.batch_first
    pixels = (images(64, 64) - teacher.pixel_mean) / teacher.pixel_std
    expected = _open_clip_self_attention_tokens(visual, pixels)
    _, dense = pooled_and_dense_embeddings(visual, pixels,
                                           visual.positional_embedding)
    torch.testing.assert_close(
        dense.reshape(2, 16, -1), expected, rtol=0, atol=FLOAT64_NETWORK)
    # Not the ordinary forward's tokens: the mask changes them.
    ordinary = visual.ln_post(
        visual.transformer(visual._embeds(pixels))[:, 1:]) @ visual.proj
    assert (ordinary - expected).abs().max() > 1e-3


def test_vit_dense_map_at_other_sizes_uses_the_resized_embedding(
        tiny_clip_vit):
    """At 96 x 128 the map is the same computation with the positional
    embedding resized to the 6 x 8 patch grid, as the global forward
    resizes it."""
    teacher = float64_teacher(tiny_clip_vit)
    visual = teacher.clip.visual
    raw = images(96, 128)
    pixels = (raw - teacher.pixel_mean) / teacher.pixel_std
    _, resized = teacher._resized_positional_embedding(pixels)
    assert resized.shape[0] == 1 + 6 * 8
    with torch.no_grad():
        native = visual.positional_embedding.clone()
        visual.positional_embedding = torch.nn.Parameter(resized)
        expected = _open_clip_self_attention_tokens(visual, pixels)
        visual.positional_embedding = torch.nn.Parameter(native)
    torch.testing.assert_close(
        teacher.dense_embeddings(raw).reshape(2, 48, -1),
        expected,
        rtol=0,
        atol=FLOAT64_NETWORK)


def test_towers_without_a_value_path_are_named(tiny_clip_vit):
    with pytest.raises(TypeError, match='ModifiedResNet or VisionTransformer'):
        pooled_and_dense_embeddings(
            torch.nn.Conv2d(3, 8, 3), torch.zeros(1, 3, 8, 8),
            torch.zeros(1, 8))


def test_empty_batch_is_refused(tiny_clip_vit):
    teacher = float64_teacher(tiny_clip_vit)
    with pytest.raises(ValueError, match='N > 0'):
        teacher.dense_probs(torch.zeros(0, 3, 64, 64))


def test_dense_map_of_float32_teacher_matches_float64(tiny_clip_resnet):
    """The float32 teacher computes the same map (float32 rounding of a
    tiny network, amplified by the logit scale: well under 1e-2)."""
    pixels = images(64, 64)
    teacher = CLIPTeacher(
        **tiny_clip_resnet, class_names=CLASS_NAMES, device='cpu')
    probs32 = teacher.dense_probs(pixels.float())
    assert probs32.dtype == torch.float32
    probs64 = float64_teacher(tiny_clip_resnet).dense_probs(pixels)
    assert (probs32.double() - probs64).abs().max() < 1e-2
