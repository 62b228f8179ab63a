"""The label table's checkpoint state: what it restores, what it refuses and
how it says what differs."""
import pytest
import torch

from ccd_mm.datasets import PseudoLabelTable, TableMismatchError
from ccd_mm.datasets.transforms import DebiasPseudoLabel, LatentPseudoLabel

PATHS = [f'/data/shapes/images/train/{index:03d}.png' for index in range(5)]

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


def filled_table(paths=PATHS, extra_fields=()):
    table = PseudoLabelTable(paths, 3, extra_fields)
    generator = torch.Generator().manual_seed(0)
    table.write('global_scores',
                torch.rand(len(paths), 3, generator=generator))
    table.write('bias', torch.tensor([0.5, 1.0, 0.8]))
    table.labeled.fill_(True)
    table.update_epoch.fill_(2)
    return table


def test_image_root_and_relative_paths():
    table = PseudoLabelTable(PATHS + ['/data/shapes/images/test/000.png'], 3)
    assert table.image_root == '/data/shapes/images'
    assert table.relative_paths[0] == 'train/000.png'
    assert table.relative_paths[-1] == 'test/000.png'


def test_checkpoint_round_trip():
    table = filled_table()
    checkpoint = {}
    table.save_to(checkpoint)
    state = PseudoLabelTable.saved_state(checkpoint)
    assert state is checkpoint['pseudo_label_table']
    restored = PseudoLabelTable(PATHS, 3)
    assert restored.moved_root(state) is None
    restored.load_state_dict(state)
    for name, value in table.fields.items():
        assert torch.equal(restored.fields[name], value), name
    assert PseudoLabelTable.saved_state({'state_dict': {}}) is None


def test_same_images_under_a_moved_data_root_are_restored():
    state = filled_table().state_dict()
    moved = [path.replace('/data/', '/mnt/disk2/') for path in PATHS]
    table = PseudoLabelTable(moved, 3)
    assert table.digest != state['digest']
    assert table.moved_root(state) == '/data/shapes/images/train'
    table.load_state_dict(state)
    assert torch.equal(table.global_scores, state['fields']['global_scores'])


def test_another_image_list_is_refused_naming_the_difference():
    state = filled_table().state_dict()
    renamed = list(PATHS)
    renamed[3] = '/data/shapes/images/train/extra.png'
    with pytest.raises(
            TableMismatchError,
            match='image 3 is 003.png there, '
            'extra.png here'):
        PseudoLabelTable(renamed, 3).load_state_dict(state)
    with pytest.raises(
            TableMismatchError,
            match='5 images under /data/shapes/images/train there, '
            '4 images under /data/shapes/images/train here'):
        PseudoLabelTable(PATHS[:4], 3).load_state_dict(state)


def test_other_fields_are_refused_naming_them():
    state = filled_table().state_dict()
    with pytest.raises(TableMismatchError, match='latent_logits'):
        PseudoLabelTable(PATHS, 3, ['latent_logits']).load_state_dict(state)


def test_state_without_image_list_restores_on_the_same_paths():
    """Checkpoints that carry only the digest of their image list."""
    state = filled_table().state_dict()
    del state['image_root'], state['relative_paths']
    table = PseudoLabelTable(PATHS, 3)
    table.load_state_dict(state)
    assert torch.equal(table.bias, torch.tensor([0.5, 1.0, 0.8]))
    moved = [path.replace('/data/', '/mnt/') for path in PATHS]
    with pytest.raises(TableMismatchError, match='does not list its images'):
        PseudoLabelTable(moved, 3).load_state_dict(state)


def test_files_of_other_contents_are_refused_naming_them():
    """The same relative names (another seed of a split): only the
    fingerprints of the files tell."""
    table = filled_table()
    table.write('fingerprints', torch.arange(5) * 2**40)
    state = table.state_dict()
    now = table.fingerprints.clone()
    now[[1, 3]] += 1
    moved = PseudoLabelTable([p.replace('/data', '/new') for p in PATHS], 3)
    with pytest.raises(
            TableMismatchError,
            match=r'2 of the 5 images under /new/shapes/images/train hold '
            r'other bytes than those the pseudo-label table of checkpoint '
            r'x.pth was made from, e.g. 001.png, 003.png'):
        moved.check_contents(state, now, 'checkpoint x.pth')
    assert moved.check_contents(state, table.fingerprints, 'checkpoint x.pth')


def test_state_saved_before_fingerprints_restores_unchecked():
    table = filled_table()
    state = table.state_dict()
    del state['fields']['fingerprints']
    restored = PseudoLabelTable(PATHS, 3)
    assert not restored.check_contents(state, table.fingerprints, 'old.pth')
    restored.load_state_dict(state)
    assert torch.equal(restored.global_scores, table.global_scores)


def test_extra_field_cannot_shadow_a_common_field():
    with pytest.raises(ValueError, match='bias'):
        PseudoLabelTable(PATHS, 3, ['bias'])


def test_ccd_label_stages():
    table = filled_table()
    table.write('local_scores', torch.full((5, 3), 0.4))
    transform = DebiasPseudoLabel(alpha=0.25)
    stages = transform.label_stages(table)
    assert list(stages) == ['initial', 'debiased', 'updated']
    assert torch.equal(stages['initial'], table.global_scores)
    debiased = (table.global_scores.clamp(min=0.05) /
                torch.tensor([0.5, 1.0, 0.8])).clamp(0, 1)
    torch.testing.assert_close(stages['debiased'], debiased)
    local = (torch.tensor(0.4) / torch.tensor([0.5, 1.0, 0.8])).clamp(0, 1)
    torch.testing.assert_close(stages['updated'],
                               0.25 * debiased + 0.75 * local)
    assert int(table.update_epoch) == 2  # the table is left unchanged
    table.update_epoch.fill_(-1)
    assert list(transform.label_stages(table)) == ['initial', 'debiased']


def test_ccd_blend_clamps_the_local_label_first_or_only_the_blend():
    initial = torch.tensor([0.04])  # debiased: 0.04 -> 0.05 / 0.5 = 0.1
    local = torch.tensor([0.9])  # debiased: 1.8
    bias = torch.tensor([0.5])
    # Paper preset: the local label saturates at 1 before the blend.
    paper = DebiasPseudoLabel(alpha=0.2).targets(initial, bias, local)
    torch.testing.assert_close(paper, torch.tensor([0.2 * 0.1 + 0.8 * 1.0]))
    # Released script: 0.2 * 0.1 + 0.8 * 1.8 = 1.46, clamped to 1.
    script = DebiasPseudoLabel(
        alpha=0.2, clamp_local=False).targets(initial, bias, local)
    torch.testing.assert_close(script, torch.tensor([1.0]))
    below_one = DebiasPseudoLabel(
        alpha=0.2, clamp_local=False).targets(initial, bias,
                                              torch.tensor([0.55]))
    torch.testing.assert_close(below_one, torch.tensor([0.02 + 0.8 * 1.1]))


def test_cdul_label_stages():
    table = filled_table(extra_fields=LatentPseudoLabel.table_fields)
    table.write('initial_labels', torch.full((5, 3), 0.75))
    table.write('latent_logits', torch.zeros(5, 3))
    stages = LatentPseudoLabel().label_stages(table)
    assert list(stages) == ['initial', 'aggregated', 'aligned']
    assert torch.equal(stages['initial'], table.global_scores)
    assert torch.equal(stages['aggregated'], torch.full((5, 3), 0.75))
    assert torch.equal(stages['aligned'], torch.full((5, 3), 0.5))
