import warnings
from unittest import mock

import open_clip
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from open_clip.constants import (IMAGENET_MEAN, IMAGENET_STD,
                                 OPENAI_DATASET_MEAN, OPENAI_DATASET_STD)

from ccd_mm.teachers import PROMPT_TEMPLATES, CLIPTeacher
from tests.fixtures.tolerances import FLOAT64_NETWORK

# Sums of probabilities and class embeddings' norms use assert_close's
# float32 default (1.3e-6 relative): one softmax or normalisation of a few
# dozen terms (tests/fixtures/tolerances.py).

CLASS_NAMES = ['cat', 'dog', 'bicycle', 'person']
TOWERS = ['tiny_clip_resnet', 'tiny_clip_vit']


@pytest.fixture(params=TOWERS)
def tiny_clip(request):
    return request.getfixturevalue(request.param)


def make_teacher(tiny_clip, **kwargs):
    kwargs.setdefault('class_names', CLASS_NAMES)
    return CLIPTeacher(**tiny_clip, device='cpu', **kwargs)


def float64_teacher(tiny_clip, **kwargs):
    """The teacher in float64, for comparisons between computations that
    may pick other float32 kernels (tests/fixtures/tolerances.py)."""
    return make_teacher(tiny_clip, **kwargs).double()


def images(*size, n=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, *size, generator=generator)


def open_clip_probs(tiny_clip, pixels, templates, mean, std):
    """The teacher's output computed with open_clip's own forward, text
    tower in float32 as the teacher's, image tower in float64."""
    model = open_clip.create_model(
        tiny_clip['model_name'], pretrained=tiny_clip['pretrained']).eval()
    tokenizer = open_clip.get_tokenizer(tiny_clip['model_name'])
    with torch.no_grad():
        text = model.encode_text(
            tokenizer([t.format(c) for c in CLASS_NAMES for t in templates]))
        text = F.normalize(
            text, dim=-1).view(len(CLASS_NAMES), len(templates), -1)
        text = F.normalize(text.mean(dim=1), dim=-1)
        normalised = (pixels.double() -
                      torch.tensor(mean).double().view(3, 1, 1)) / \
            torch.tensor(std).double().view(3, 1, 1)
        image = model.visual.double()(normalised)
        image = F.normalize(image, dim=-1)
        return (model.logit_scale.double().exp() *
                image @ text.double().T).softmax(dim=-1)


def test_native_resolution_matches_open_clip(tiny_clip):
    pixels = images(64, 64)
    probs = make_teacher(tiny_clip)(pixels)
    assert probs.shape == (3, len(CLASS_NAMES))
    assert probs.dtype == torch.float32
    probs = float64_teacher(tiny_clip)(pixels)
    expected = open_clip_probs(tiny_clip, pixels, ('a photo of the {}.', ),
                               OPENAI_DATASET_MEAN, OPENAI_DATASET_STD)
    torch.testing.assert_close(probs, expected, rtol=0, atol=FLOAT64_NETWORK)
    # A random tiny model at logit scale 100 still separates the classes.
    assert probs.max() > 0.5


def test_imagenet_normalization_preset(tiny_clip):
    pixels = images(64, 64)
    clip_probs = float64_teacher(tiny_clip)(pixels)
    imagenet_probs = float64_teacher(
        tiny_clip, normalization='imagenet')(
            pixels)
    expected = open_clip_probs(tiny_clip, pixels, ('a photo of the {}.', ),
                               IMAGENET_MEAN, IMAGENET_STD)
    torch.testing.assert_close(
        imagenet_probs, expected, rtol=0, atol=FLOAT64_NETWORK)
    assert (imagenet_probs - clip_probs).abs().max() > 1e-5


def test_unknown_normalization_rejected(tiny_clip_vit):
    with pytest.raises(ValueError, match='imagenet'):
        make_teacher(tiny_clip_vit, normalization='laion')


def test_upscaled_input_interpolates_positional_embedding(tiny_clip):
    teacher = make_teacher(tiny_clip)
    large = images(96, 96)
    probs = teacher(large)
    # Without the resized embedding both towers fail on a 3x3 grid.
    assert torch.isfinite(probs).all()
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(3))
    assert torch.equal(probs, teacher(large))
    native = teacher(F.interpolate(large, size=(64, 64), mode='bilinear'))
    assert (probs - native).abs().max() > 1e-4


@pytest.mark.parametrize('size', [(64, 96), (96, 64), (70, 100)])
def test_non_square_and_non_multiple_inputs(tiny_clip, size):
    teacher = make_teacher(tiny_clip)
    probs = teacher(images(*size, n=2))
    assert probs.shape == (2, len(CLASS_NAMES))
    assert torch.isfinite(probs).all()
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(2))


def test_chunking_by_batch_size(tiny_clip_resnet):
    pixels = images(64, 64, n=5)
    teacher = float64_teacher(tiny_clip_resnet)
    whole = teacher(pixels)
    # One teacher: its class embeddings (made in float32, in chunks of
    # batch_size prompts) stay those of the whole batch.
    teacher.batch_size = 2
    chunked = teacher(pixels)
    torch.testing.assert_close(chunked, whole, rtol=0, atol=FLOAT64_NETWORK)


def test_label_views_buckets_and_keeps_order(tiny_clip):
    teacher = float64_teacher(tiny_clip)
    sizes = [(64, 64), (96, 64), (64, 64), (64, 96), (96, 64)]
    views = [images(*size, n=1, seed=i)[0] for i, size in enumerate(sizes)]
    one_by_one = torch.cat([teacher(view[None]) for view in views])
    with mock.patch.object(teacher, 'forward', wraps=teacher.forward) as spy:
        probs = teacher.label_views(views)
    assert spy.call_count == 3  # one batch per distinct view size
    assert probs.shape == (len(views), len(CLASS_NAMES))
    torch.testing.assert_close(probs, one_by_one, rtol=0, atol=FLOAT64_NETWORK)
    assert teacher.label_views([]).shape == (0, len(CLASS_NAMES))


def test_uint8_views_equal_float_views_in_unit_range(tiny_clip):
    teacher = make_teacher(tiny_clip)
    pixels = torch.randint(0, 256, (3, 3, 64, 64), dtype=torch.uint8)
    # The same float32 pixels either way: the same kernels, bit-identical.
    assert torch.equal(teacher(pixels), teacher(pixels.float() / 255))


def test_template_averaging_by_hand(tiny_clip_vit):
    templates = ('a photo of the {}.', 'a drawing of a {}.')
    teacher = make_teacher(
        tiny_clip_vit, class_names=['cat', 'dog'], templates=templates)
    model = teacher.clip
    tokenizer = open_clip.get_tokenizer(tiny_clip_vit['model_name'])
    with torch.no_grad():
        cat = F.normalize(
            model.encode_text(
                tokenizer(['a photo of the cat.', 'a drawing of a cat.'])),
            dim=-1)
    expected_cat = (cat[0] + cat[1]) / (cat[0] + cat[1]).norm()
    torch.testing.assert_close(teacher.class_embeddings[0], expected_cat)
    torch.testing.assert_close(
        teacher.class_embeddings.norm(dim=1), torch.ones(2))
    single = make_teacher(tiny_clip_vit, class_names=['cat', 'dog'])
    assert (single.class_embeddings[0] - expected_cat).abs().max() > 1e-3


def test_prompt_templates_presets():
    assert PROMPT_TEMPLATES['default'] == ('a photo of the {}.', )
    assert PROMPT_TEMPLATES['nus_wide'] == ('a photo of a {}.', )
    for templates in PROMPT_TEMPLATES.values():
        assert all(t.count('{}') == 1 for t in templates)


def test_frozen_and_built_from_registry(tiny_clip_resnet):
    teacher = MODELS.build(
        dict(
            type='CLIPTeacher',
            class_names=CLASS_NAMES,
            device='cpu',
            **tiny_clip_resnet))
    assert isinstance(teacher, CLIPTeacher)
    assert teacher.num_classes == len(CLASS_NAMES)
    teacher.train()
    assert not any(module.training for module in teacher.modules())
    assert not any(param.requires_grad for param in teacher.parameters())
    pixels = images(64, 64).requires_grad_()
    assert not teacher(pixels).requires_grad


def test_torchscript_checkpoint_loads(tiny_clip_resnet, tmp_path):
    # OpenAI's released .pt files are TorchScript archives.
    model = open_clip.create_model(
        tiny_clip_resnet['model_name'],
        pretrained=tiny_clip_resnet['pretrained'])
    # OpenAI's model keeps the causal text mask as a plain attribute, so it
    # is not in the archive's state_dict; open_clip makes it a buffer.
    attn_mask = model._buffers.pop('attn_mask')
    model.attn_mask = attn_mask
    archive = tmp_path / 'tiny_openai_style.pt'
    with warnings.catch_warnings():  # torch.jit is deprecated in torch 2.x
        warnings.simplefilter('ignore', FutureWarning)
        torch.jit.save(torch.jit.script(model), archive)
    from_archive = make_teacher(
        dict(tiny_clip_resnet, pretrained=str(archive)))
    pixels = images(64, 64)
    torch.testing.assert_close(
        from_archive(pixels),
        make_teacher(tiny_clip_resnet)(pixels))


def test_model_config_must_be_named_after_model(tiny_clip_vit):
    with pytest.raises(ValueError, match='ccd-tiny-RN'):
        make_teacher(dict(tiny_clip_vit, model_name='ccd-tiny-RN'))


@pytest.mark.parametrize(
    'template',
    ['a photo.', 'a {} and a {}.', 'a photo of the {name}.', 'a {} photo }.'])
def test_template_without_one_class_name_field_is_refused(
        tiny_clip_resnet, template):
    with pytest.raises(ValueError) as error:
        make_teacher(
            tiny_clip_resnet, templates=['a photo of a {}.', template])
    message = str(error.value)
    assert f'prompt template {template!r}' in message
    assert "exactly one '{}'" in message
