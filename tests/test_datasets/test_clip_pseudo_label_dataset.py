import os

import pytest
import torch
from mmengine.dataset import pseudo_collate
from PIL import Image
from torch.utils.data import DataLoader

from ccd_mm.datasets import CLIPPseudoLabelDataset, PseudoLabelTable
from ccd_mm.datasets.shapesml_generator import generate_shapesml

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('shapesml')
    generate_shapesml(
        str(root), seed=0, num_train=8, num_test=12, image_size=32)
    return str(root)


def make_wrapper(root, **kwargs):
    return CLIPPseudoLabelDataset(
        dataset=dict(
            type='ShapesML',
            data_root=root,
            split='train',
            pipeline=[dict(type='PackInputs')]),
        **kwargs)


def fill(table: PseudoLabelTable, seed=0):
    generator = torch.Generator().manual_seed(seed)
    table.write(
        'global_scores',
        torch.rand(table.num_images, table.num_classes, generator=generator))
    table.write('bias', torch.full((table.num_classes, ), 0.5))
    table.labeled.fill_(True)


def test_samples_carry_teacher_targets_not_ground_truth(shapes_root):
    dataset = make_wrapper(shapes_root)
    info = dataset.dataset.get_data_info(0)
    assert info['gt_label']  # the inner split is annotated...
    with pytest.raises(RuntimeError, match='CLIPInitialLabelHook'):
        dataset[0]
    fill(dataset.label_table)
    sample = dataset[0]['data_samples']
    # ...but what reaches the model is the debiased teacher score only
    assert 'gt_label' not in sample
    scores = dataset.label_table.global_scores[0]
    expected = torch.clamp(scores.clamp(min=0.05) / 0.5, 0, 1)
    assert torch.allclose(sample.gt_score, expected)
    assert 'gt_label' not in dataset.get_data_info(0)


def test_current_targets_blend_after_update(shapes_root):
    dataset = make_wrapper(
        shapes_root,
        target_transform=dict(type='DebiasPseudoLabel', alpha=0.25))
    table = dataset.label_table
    fill(table)
    initial = dataset.current_targets()
    table.write('local_scores',
                torch.ones(table.num_images, table.num_classes) * 0.4)
    table.update_epoch.fill_(2)
    # Eq. 7 by hand: 0.25 * initial + 0.75 * clamp(0.4 / 0.5)
    expected = (0.25 * initial + 0.75 * 0.8).clamp(0, 1)
    assert torch.allclose(dataset.current_targets(), expected)
    assert torch.allclose(dataset[3]['data_samples'].gt_score, expected[3])


def test_persistent_workers_see_in_place_updates(shapes_root):
    dataset = make_wrapper(shapes_root)
    table = dataset.label_table
    fill(table)
    loader = DataLoader(
        dataset,
        batch_size=4,
        num_workers=2,
        persistent_workers=True,
        collate_fn=pseudo_collate)

    def served_targets():
        return torch.stack([
            sample.gt_score for batch in loader
            for sample in batch['data_samples']
        ])

    before = served_targets()
    assert torch.allclose(before, dataset.current_targets())
    table.write('local_scores', torch.full_like(table.local_scores, 0.45))
    table.update_epoch.fill_(2)
    after = served_targets()  # same worker processes, new labels
    assert not torch.allclose(before, after)
    assert torch.allclose(after, dataset.current_targets())


def test_undecodable_images_are_not_served(shapes_root):
    dataset = make_wrapper(shapes_root)
    table = dataset.label_table
    fill(table)
    valid = torch.ones(table.num_images, dtype=torch.bool)
    valid[[2, 7]] = False
    table.write('valid', valid)
    assert dataset[2]['data_samples'].sample_idx == 3
    assert dataset[7]['data_samples'].sample_idx == 0  # wraps around


def test_table_state_round_trip(shapes_root):
    dataset = make_wrapper(shapes_root)
    fill(dataset.label_table, seed=1)
    state = dataset.label_table.state_dict()
    other = make_wrapper(shapes_root)
    other.label_table.load_state_dict(state)
    for name, value in dataset.label_table.fields.items():
        assert torch.equal(other.label_table.fields[name], value), name


def test_target_transform_declares_its_table_fields(shapes_root):
    ccd = make_wrapper(shapes_root)
    assert ccd.label_table.extra_fields == []
    cdul = make_wrapper(
        shapes_root,
        target_transform=dict(type='LatentPseudoLabel'),
        extra_table_fields=('latent_logits', 'my_hook_field'))
    assert cdul.label_table.extra_fields == [
        'initial_labels', 'latent_logits', 'my_hook_field'
    ]
    table = cdul.label_table
    assert table.my_hook_field.shape == (table.num_images, table.num_classes)


def test_class_prompts_must_match_classes(shapes_root):
    with pytest.raises(ValueError, match='class prompts'):
        make_wrapper(shapes_root, class_prompts=['a', 'b'])
    dataset = make_wrapper(
        shapes_root, prompt_templates=('a photo of a {}.', ))
    config = dataset.teacher_config(dict(type='CLIPTeacher'))
    assert config['class_names'] == list(dataset.metainfo['classes'])
    assert config['templates'] == ('a photo of a {}.', )


def test_image_changed_during_the_run_is_named(shapes_root):
    dataset = CLIPPseudoLabelDataset(
        dataset=dict(
            type='ShapesML',
            data_root=shapes_root,
            split='train',
            pipeline=[dict(type='LoadImageFromFile'),
                      dict(type='PackInputs')]))
    fill(dataset.label_table)
    emptied, removed = dataset.image_paths()[:2]
    kept = [open(path, 'rb').read() for path in (emptied, removed)]
    open(emptied, 'wb').close()
    os.remove(removed)
    try:
        for index, path in enumerate((emptied, removed)):
            with pytest.raises(RuntimeError, match=f'failed on {path}'):
                dataset[index]
    finally:
        for path, content in zip((emptied, removed), kept):
            open(path, 'wb').write(content)


def folder_wrapper(folder, **inner):
    """A folder of images without labels, as configs/ccd_folder.py reads
    it."""
    return CLIPPseudoLabelDataset(
        dataset=dict(
            type='CustomDataset',
            data_root=str(folder),
            with_label=False,
            pipeline=[dict(type='PackInputs')],
            **inner))


@pytest.fixture
def image_folder(tmp_path):
    folder = tmp_path / 'photos'
    (folder / 'nested' / 'deeper').mkdir(parents=True)
    for name in ('b.png', 'a.JPEG', 'nested/deeper/c.bmp', 'notes.txt',
                 '.hidden.png'):
        path = folder / name
        if name.endswith('.txt'):
            path.write_text('not an image')
        else:
            Image.new('RGB', (8, 8)).save(
                path, format='JPEG' if name.endswith('JPEG') else 'PNG')
    return folder


def test_folder_with_class_names_from_a_file(image_folder, tmp_path):
    names = tmp_path / 'classes.txt'
    names.write_text('potted plant\ncat\n')
    dataset = folder_wrapper(image_folder, classes=str(names))
    # Images in subfolders too, any case of extension, hidden files and
    # other files left out.
    assert [
        path[len(str(image_folder)) + 1:] for path in dataset.image_paths()
    ] == ['a.JPEG', 'b.png', 'nested/deeper/c.bmp']
    assert dataset.metainfo['classes'] == ('potted plant', 'cat')
    assert dataset.teacher_config(dict(type='CLIPTeacher'))['class_names'] \
        == ['potted plant', 'cat']


@pytest.mark.parametrize(
    'inner, message',
    [(dict(), 'names no classes'),
     (dict(metainfo=dict(classes='missing/classes.txt')), 'does not exist'),
     (dict(classes=['cat', ' ']), r'\[1\] \(0-based\) are empty'),
     (dict(classes=['cat', 'dog', 'cat']), r"more than once: \['cat'\]")])
def test_unusable_class_names_are_refused(image_folder, inner, message):
    with pytest.raises(ValueError, match=message):
        folder_wrapper(image_folder, **inner)


def test_a_missing_class_name_file_is_named(image_folder):
    with pytest.raises(FileNotFoundError, match='missing/classes.txt'):
        folder_wrapper(image_folder, classes='missing/classes.txt')


@pytest.mark.parametrize('template', ['a photo.', 'a {} and a {}.'])
def test_template_without_one_class_name_field_is_refused(
        shapes_root, template):
    with pytest.raises(ValueError, match=f'prompt template {template!r}'):
        make_wrapper(shapes_root, prompt_templates=[template])


def test_a_string_of_templates_is_refused(shapes_root):
    # A bare string would iterate into one template per character.
    with pytest.raises(ValueError, match='a list of templates'):
        make_wrapper(shapes_root, prompt_templates='a photo of the {}.')


@pytest.mark.parametrize('given_as', ['classes', 'metainfo'])
def test_an_empty_class_name_file_is_named_empty(image_folder, tmp_path,
                                                 given_as):
    names = tmp_path / 'classes.txt'
    names.write_text('')
    inner = dict(classes=str(names)) if given_as == 'classes' else dict(
        metainfo=dict(classes=str(names)))
    with pytest.raises(ValueError) as error:
        folder_wrapper(image_folder, **inner)
    assert f'the class-name file {names} is empty' in str(error.value)
    assert 'num_classes' not in str(error.value)
