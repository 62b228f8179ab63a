import argparse
import logging
import time
import warnings

import open_clip
import pytest
import torch

from ccd_mm.teachers import (CLIPTeacher, load_clip_model,
                             resolve_clip_checkpoint)
from ccd_mm.teachers.clip_checkpoint import create_model_without_weights
from ccd_mm.teachers.torchscript_archive import is_torchscript_archive
from tests.fixtures.code_running_pickle import (write_code_running_checkpoint,
                                                write_code_running_polyglot)

RN50_OPENAI_URL = ('https://openaipublic.azureedge.net/clip/models/'
                   'afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63'
                   'bc04b6762/RN50.pt')

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def test_existing_file_is_used_as_is(tiny_clip_vit):
    path = tiny_clip_vit['pretrained']
    assert resolve_clip_checkpoint('ccd-tiny-ViT', path) == path


def test_missing_local_file_names_the_path(tiny_clip_vit, tmp_path):
    missing = str(tmp_path / 'weights' / 'RN50x64.pt')
    start = time.monotonic()
    with pytest.raises(FileNotFoundError) as error:
        CLIPTeacher(
            **dict(tiny_clip_vit, pretrained=missing),
            class_names=['cat'],
            device='cpu')
    assert time.monotonic() - start < 5
    assert missing in str(error.value)


def test_uncached_openai_tag_fails_fast_with_instructions(tmp_path):
    start = time.monotonic()
    with pytest.raises(FileNotFoundError) as error:
        CLIPTeacher(
            'RN50',
            'openai',
            class_names=['cat'],
            device='cpu',
            cache_dir=str(tmp_path))
    assert time.monotonic() - start < 5
    message = str(error.value)
    assert RN50_OPENAI_URL in message
    assert str(tmp_path / 'RN50.pt') in message
    assert 'timm/resnet50_clip.openai' in message
    assert "pretrained='/path/to/file'" in message


def test_unknown_tag_lists_known_tags():
    with pytest.raises(ValueError, match="'openai'"):
        resolve_clip_checkpoint('RN50', 'no_such_tag')


def test_tag_found_in_url_cache(tmp_path):
    cached = tmp_path / 'RN50.pt'
    cached.write_bytes(b'stand-in, never loaded')
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # quickgelu name: no mismatch warning
        found = resolve_clip_checkpoint('RN50-quickgelu', 'openai',
                                        str(tmp_path))
    assert found == str(cached)
    with pytest.warns(UserWarning, match='quickgelu'):
        resolve_clip_checkpoint('RN50', 'openai', str(tmp_path))


def test_tag_found_in_hugging_face_cache(tmp_path):
    # The layout huggingface_hub writes: refs/<branch> names a snapshot.
    repo = tmp_path / 'models--timm--resnet50_clip.openai'
    snapshot = repo / 'snapshots' / 'abc123'
    snapshot.mkdir(parents=True)
    (repo / 'refs').mkdir()
    (repo / 'refs' / 'main').write_text('abc123')
    weights = snapshot / 'open_clip_model.safetensors'
    weights.write_bytes(b'stand-in, never loaded')
    found = resolve_clip_checkpoint('RN50-quickgelu', 'openai', str(tmp_path))
    assert found == str(weights)


def test_torchscript_archive_detection(tiny_clip_vit, tmp_path):
    assert not is_torchscript_archive(tiny_clip_vit['pretrained'])
    text_file = tmp_path / 'notes.txt'
    text_file.write_text('not a checkpoint')
    assert not is_torchscript_archive(str(text_file))
    archive = tmp_path / 'scripted.pt'
    with warnings.catch_warnings():  # torch.jit is deprecated in torch 2.x
        warnings.simplefilter('ignore', FutureWarning)
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), archive)
    assert is_torchscript_archive(str(archive))
    # A pickle in front of a zip is no TorchScript archive, whatever the
    # zip at its end lists.
    polyglot = write_code_running_polyglot(tmp_path / 'RN50x64.pt',
                                           tmp_path / 'code_ran')
    assert not is_torchscript_archive(str(polyglot))


def teacher_with_weights(tiny_clip, weights):
    return CLIPTeacher(
        **dict(tiny_clip, pretrained=str(weights)),
        class_names=['cat'],
        device='cpu')


def test_weights_of_another_architecture_name_file_and_model(
        tiny_clip_resnet, tiny_clip_vit):
    vit_weights = tiny_clip_vit['pretrained']
    with pytest.raises(ValueError) as error:
        teacher_with_weights(tiny_clip_resnet, vit_weights)
    message = str(error.value)
    assert message.startswith(
        f"{vit_weights} cannot be loaded as the weights of the open_clip "
        "model 'ccd-tiny-RN': the weights of another model: ")
    assert ('visual.conv1.weight (32, 3, 16, 16) in the file, (4, 3, 3, 3) '
            'in the model') in message
    assert 'missing from the file: visual.bn1.weight' in message
    assert 'Missing key(s)' not in message  # no torch key dump


@pytest.mark.parametrize('content', [b'', b'not a checkpoint' * 8])
def test_file_that_is_no_checkpoint_is_named(tiny_clip_resnet, tmp_path,
                                             content):
    weights = tmp_path / 'RN50x64.pt'
    weights.write_bytes(content)
    with pytest.raises(
            ValueError,
            match=f"{weights} cannot be loaded as the weights of "
            "the open_clip model 'ccd-tiny-RN': "):
        teacher_with_weights(tiny_clip_resnet, weights)


def test_code_running_weight_file_is_refused_unrun(tiny_clip_resnet, tmp_path):
    marker = tmp_path / 'code_ran'
    weights = write_code_running_checkpoint(tmp_path / 'RN50x64.pt', marker)
    with pytest.raises(ValueError) as error:
        teacher_with_weights(tiny_clip_resnet, weights)
    assert 'holds other objects than weights, refused unrun' in str(
        error.value)
    assert 'weights_only' not in str(error.value)  # no advice to turn it off
    assert not marker.exists()


def test_pickle_with_appended_zip_is_refused_unrun(tiny_clip_resnet, tmp_path):
    marker = tmp_path / 'code_ran'
    weights = write_code_running_polyglot(tmp_path / 'RN50x64.pt', marker)
    with pytest.raises(ValueError) as error:
        load_clip_model(tiny_clip_resnet['model_name'], str(weights))
    message = str(error.value)
    assert not marker.exists()
    assert 'holds other objects than weights, refused unrun' in message
    assert f'trusted://{weights}' in message


def test_trusted_scheme_unpickles_a_weight_file_in_full(
        tiny_clip_vit, tmp_path):
    # Weights next to an object torch.load(weights_only=True) refuses.
    weights = tmp_path / 'with_args.pt'
    torch.save(
        dict(
            state_dict=torch.load(tiny_clip_vit['pretrained']),
            args=argparse.Namespace(lr=0.1)), weights)
    with pytest.raises(ValueError, match=f'trusted://{weights}'):
        teacher_with_weights(tiny_clip_vit, weights)
    trusted = teacher_with_weights(tiny_clip_vit, f'trusted://{weights}')
    pixels = torch.rand(2, 3, 64, 64)
    torch.testing.assert_close(
        trusted(pixels),
        teacher_with_weights(tiny_clip_vit,
                             tiny_clip_vit['pretrained'])(pixels))


def test_model_built_for_its_weights_drops_only_the_random_init_warning(
        monkeypatch, caplog):

    def create_model(model_name, **kwargs):  # as open_clip's logs them
        logging.warning(f"No pretrained weights loaded for model "
                        f"'{model_name}'. Model initialized randomly.")
        logging.warning('another warning')
        return torch.nn.Linear(1, 1)

    monkeypatch.setattr(open_clip, 'create_model', create_model)
    with caplog.at_level(logging.WARNING):
        model = create_model_without_weights('tiny', device='cpu')
    assert isinstance(model, torch.nn.Linear)
    assert 'initialized randomly' not in caplog.text
    assert 'another warning' in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # the filter is gone after it
        open_clip.create_model('tiny')
    assert 'initialized randomly' in caplog.text
