"""Label caches: round trip, provenance refusal, atomic writes, and the
initial-label hook reading a cache made by tools/make_pseudo_labels.py."""
import hashlib
import os
import socket
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import HOOKS

from ccd_mm.datasets.pseudo_label_table import image_list_digest
from ccd_mm.engine import build_pseudo_label_dataset
from ccd_mm.engine.hooks import clip_initial_label_hook
from ccd_mm.evaluation import load_pseudo_labels
from ccd_mm.labeling import label_cache
from ccd_mm.labeling.label_cache import (CACHED_TABLE_FIELDS,
                                         PROVENANCE_FIELDS, LabelCacheMismatch,
                                         label_provenance, read_cached_scores,
                                         read_label_cache, write_label_cache)
from tests.fixtures.ccd_tool_run import shared_ccd_run

PROVENANCE = dict(
    teacher='RN50x64-quickgelu',
    weights_sha256='ab' * 32,
    class_prompts=['potted plant', 'dog', 'tv monitor'],
    templates=['a photo of the {}.'],
    view_size=640,
    normalization='clip',
    image_list='0123456789abcdef')

# One changed value per provenance field, as another run would have it.
CHANGED = dict(
    teacher='ViT-L-14',
    weights_sha256='cd' * 32,
    class_prompts=['potted plant', 'cat', 'tv monitor'],
    templates=['a photo of a {}.'],
    view_size=448,
    normalization='imagenet',
    image_list='fedcba9876543210')


def cache_fields(seed=0):
    generator = torch.Generator().manual_seed(seed)
    valid = torch.tensor([True, True, False, True, True])
    # As the teacher writes them: softmax rows, 0 for undecodable images.
    scores = torch.rand(5, 3, generator=generator).softmax(dim=1)
    scores[~valid] = 0
    return dict(
        global_scores=scores,
        valid=valid,
        bias=torch.tensor([0.5, 1.0, 0.75]),
        confident=torch.tensor([True, False, False, True, False]))


def test_round_trip_keeps_fields_and_provenance(tmp_path):
    path = tmp_path / 'sub' / 'labels.pth'
    fields = cache_fields()
    write_label_cache(str(path), fields, 0.5, PROVENANCE)
    payload = read_label_cache(str(path))
    assert payload['provenance'] == PROVENANCE
    assert payload['entropy_threshold'] == 0.5
    assert set(payload['fields']) == set(CACHED_TABLE_FIELDS)
    for name, value in fields.items():
        assert payload['fields'][name].dtype == value.dtype
        assert torch.equal(payload['fields'][name], value), name
    scores, decoded = read_cached_scores(str(path), dict(PROVENANCE))
    assert torch.equal(scores, fields['global_scores'])
    assert decoded.tolist() == [True, True, False, True, True]
    # the file gets the user's usual permissions, not mkstemp's 0600
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_changed_values_cover_every_field():
    assert set(CHANGED) == set(PROVENANCE_FIELDS) == set(PROVENANCE)


@pytest.mark.parametrize('field', PROVENANCE_FIELDS)
def test_cache_of_other_provenance_is_refused_naming_the_field(
        tmp_path, field):
    path = str(tmp_path / 'labels.pth')
    write_label_cache(path, cache_fields(), 0.5, PROVENANCE)
    run = dict(PROVENANCE, **{field: CHANGED[field]})
    with pytest.raises(LabelCacheMismatch, match=f'another {field} ') as info:
        read_cached_scores(path, run)
    assert info.value.field == field


def test_mismatch_message_points_at_the_differing_prompt(tmp_path):
    path = str(tmp_path / 'labels.pth')
    write_label_cache(path, cache_fields(), 0.5, PROVENANCE)
    with pytest.raises(
            LabelCacheMismatch, match="entry 1: cache 'dog', this run 'cat'"):
        read_cached_scores(
            path, dict(PROVENANCE, class_prompts=CHANGED['class_prompts']))


def test_crash_during_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / 'labels.pth'
    old = cache_fields(seed=0)
    write_label_cache(str(path), old, 0.5, PROVENANCE)
    old_bytes = path.read_bytes()

    def crash_half_way(payload, file):
        file.write(b'PK\x03\x04 half of a torch archive')
        raise RuntimeError('killed while writing')

    monkeypatch.setattr(label_cache.torch, 'save', crash_half_way)
    with pytest.raises(RuntimeError, match='killed while writing'):
        write_label_cache(str(path), cache_fields(seed=1), 2.0, PROVENANCE)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ['labels.pth']  # no temp file left
    payload = read_label_cache(str(path))
    assert torch.equal(payload['fields']['global_scores'],
                       old['global_scores'])
    assert payload['entropy_threshold'] == 0.5


def test_truncated_or_missing_cache_is_not_read(tmp_path):
    path = tmp_path / 'labels.pth'
    write_label_cache(str(path), cache_fields(), 0.5, PROVENANCE)
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])
    with pytest.raises(ValueError, match='not a label cache'):
        read_label_cache(str(truncated))
    with pytest.raises(FileNotFoundError, match='make_pseudo_labels.py'):
        read_label_cache(str(tmp_path / 'absent.pth'))


def test_provenance_hashes_the_weight_file(tiny_clip_resnet):
    teacher = dict(
        tiny_clip_resnet,
        class_names=['cat', 'dog'],
        templates=('a photo of the {}.', 'a {}.'))
    paths = ['a.png', 'b.png']
    provenance = label_provenance(teacher, 64, paths)
    with open(tiny_clip_resnet['pretrained'], 'rb') as file:
        expected_hash = hashlib.sha256(file.read()).hexdigest()
    assert provenance == dict(
        teacher='ccd-tiny-RN',
        weights_sha256=expected_hash,
        class_prompts=['cat', 'dog'],
        templates=['a photo of the {}.', 'a {}.'],
        view_size=64,
        normalization='clip',  # CLIPTeacher's default
        image_list=image_list_digest(paths))


@pytest.fixture(scope='module')
def run(tmp_path_factory, tiny_clip_resnet):
    return shared_ccd_run(tmp_path_factory, tiny_clip_resnet)


def test_tool_cache_holds_the_run_labels(run):
    payload = read_label_cache(run.cache)
    table = run.runner.train_dataloader.dataset.label_table
    for name in CACHED_TABLE_FIELDS:
        assert torch.equal(payload['fields'][name], table.fields[name]), name
    assert payload['entropy_threshold'] == 2.0
    assert payload['provenance']['view_size'] == 32
    assert payload['provenance']['image_list'] == table.digest


def cache_config(run, **options):
    cfg = Config.fromfile(run.config)
    # The documented way to point a config at a cache.
    cfg.merge_from_dict({
        'default_hooks.initial_labels.label_cache': run.cache,
        **options
    })
    return cfg


def test_hook_reads_the_cache_instead_of_running_the_teacher(run, monkeypatch):
    monkeypatch.setattr(clip_initial_label_hook, 'label_global_views',
                        lambda *args, **kwargs: pytest.fail('the teacher ran'))
    cfg = cache_config(run)
    hook = HOOKS.build(cfg.default_hooks.initial_labels)
    fields, has_estimate = hook.initial_labels(build_pseudo_label_dataset(cfg))
    table = run.runner.train_dataloader.dataset.label_table
    for name in CACHED_TABLE_FIELDS:
        assert torch.equal(fields[name], table.fields[name]), name
    assert has_estimate.tolist() == (table.bias != 1).tolist()


@pytest.mark.parametrize('option, field', [
    ({
        'default_hooks.initial_labels.view_size': 64
    }, 'view_size'),
    ({
        'train_dataloader.dataset.prompt_templates': ['a {}.']
    }, 'templates'),
    ({
        'default_hooks.initial_labels.teacher.normalization': 'imagenet'
    }, 'normalization'),
])
def test_hook_refuses_a_cache_of_other_settings(run, option, field):
    cfg = cache_config(run, **option)
    hook = HOOKS.build(cfg.default_hooks.initial_labels)
    with pytest.raises(LabelCacheMismatch, match=f'another {field} '):
        hook.initial_labels(build_pseudo_label_dataset(cfg))


def rewrite_fields(path, **changes):
    """Change cached tensors in place, keeping the stored digest: what a
    hand edit or bytes written over the file give."""
    payload = torch.load(path, weights_only=True)
    payload['fields'].update(changes)
    torch.save(payload, path)


def test_cache_changed_after_writing_is_refused(tmp_path):
    path = str(tmp_path / 'labels.pth')
    fields = cache_fields()
    write_label_cache(path, fields, 0.5, PROVENANCE)
    edited = fields['global_scores'].clone()
    # Plausible values (a softmax row, reordered): only the digest tells.
    edited[0] = edited[0].flip(0)
    rewrite_fields(path, global_scores=edited)
    with pytest.raises(
            ValueError, match=f'label cache {path} was changed after'):
        read_label_cache(path)
    # Tools that read caches or checkpoints name the same refusal.
    with pytest.raises(ValueError, match='was changed after'):
        load_pseudo_labels(path, dataset=None)


@pytest.mark.parametrize('field, value, problem', [
    ('global_scores', float('nan'), 'not finite'),
    ('global_scores', 1.5, r'outside \[0, 1\]'),
    ('bias', 0.0, r'outside \(0, 1\]'),
])
def test_impossible_values_are_refused_naming_the_file(tmp_path, field, value,
                                                       problem):
    path = str(tmp_path / 'labels.pth')
    write_label_cache(path, cache_fields(), 0.5, PROVENANCE)
    changed = cache_fields()[field].clone()
    changed.view(-1)[0] = value
    rewrite_fields(path, **{field: changed})
    total = changed.numel()
    with pytest.raises(
            ValueError,
            match=f'{path}: 1 of the {total} {field} '
            f'values are {problem}'):
        read_label_cache(path)
    with pytest.raises(ValueError, match=problem):
        write_label_cache(
            str(tmp_path / 'new.pth'),
            dict(cache_fields(), **{field: changed}), 0.5, PROVENANCE)


def undecodable_image_scored(fields):
    scores = fields['global_scores'].clone()
    scores[2] = scores[0]
    return dict(fields, global_scores=scores)


@pytest.mark.parametrize(
    'edit, problem', [
        (lambda fields: dict(
            fields, global_scores=torch.zeros_like(fields['global_scores'])),
         '4 of the 5 global_scores rows of decoded images do not sum to 1'),
        (undecodable_image_scored,
         '1 of the 5 global_scores rows of undecodable images are not 0'),
        (lambda fields: dict(
            fields, confident=torch.ones(5, dtype=torch.bool)),
         '1 of the 5 confident flags of undecodable images are set'),
    ],
    ids=['all_zero', 'undecodable_scored', 'undecodable_confident'])
def test_rows_the_teacher_never_writes_are_refused_despite_the_digest(
        tmp_path, edit, problem):
    """An all-zero cache written with its digest recomputed passes every
    value range; its rows are not the teacher's softmax."""
    path = str(tmp_path / 'labels.pth')
    write_label_cache(path, cache_fields(), 0.5, PROVENANCE)
    payload = torch.load(path, weights_only=True)
    payload['fields'] = edit(payload['fields'])
    payload['fields_sha256'] = label_cache.fields_sha256(payload['fields'])
    torch.save(payload, path)
    with pytest.raises(ValueError, match=f'{path}: {problem}'):
        read_label_cache(path)


def test_stale_temp_files_of_killed_writers_are_removed(tmp_path):
    path = tmp_path / 'labels.pth'
    killed = subprocess.Popen([sys.executable, '-c', 'pass'])
    killed.wait()
    host = socket.gethostname()
    stale = tmp_path / f'.labels.pth.{host}.{killed.pid}.k1ll3d.tmp'
    # A writer still running, another host's and another cache's: kept.
    running = tmp_path / f'.labels.pth.{host}.{os.getpid()}.w0rk1n.tmp'
    remote = tmp_path / f'.labels.pth.other-host.{killed.pid}.r3m0te.tmp'
    other = tmp_path / f'.other.pth.{host}.{killed.pid}.0th3r.tmp'
    for leftover in (stale, running, remote, other):
        leftover.write_bytes(b'PK\x03\x04 half of a torch archive')
    write_label_cache(str(path), cache_fields(), 0.5, PROVENANCE)
    assert sorted(os.listdir(tmp_path)) == sorted(
        ['labels.pth', running.name, remote.name, other.name])
