import math

import pytest
import torch
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

from ccd_mm.datasets import CLIPPseudoLabelDataset
from ccd_mm.datasets.shapesml_generator import generate_shapesml
from ccd_mm.datasets.transforms import LatentPseudoLabel

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


@pytest.fixture(scope='module')
def cdul_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp('shapesml')
    generate_shapesml(
        str(root), seed=0, num_train=8, num_test=12, image_size=32)
    dataset = CLIPPseudoLabelDataset(
        dataset=dict(
            type='ShapesML',
            data_root=str(root),
            split='train',
            pipeline=[dict(type='PackInputs')]),
        target_transform=dict(type='LatentPseudoLabel'))
    dataset.label_table.labeled.fill_(True)
    return dataset


def test_target_is_sigmoid_of_latent_logits():
    results = LatentPseudoLabel()(
        dict(latent_logits=torch.tensor([0.0, math.log(3), -math.log(3)])))
    assert results['gt_score'].tolist() == pytest.approx([0.5, 0.75, 0.25])


def test_samples_and_batch_targets_follow_the_table(cdul_dataset):
    table = cdul_dataset.label_table
    latent = torch.linspace(-3, 3, table.num_images * table.num_classes)
    table.write('latent_logits', latent.view(table.num_images, -1))
    sample = cdul_dataset[5]['data_samples']
    assert 'gt_label' not in sample
    torch.testing.assert_close(sample.gt_score,
                               torch.sigmoid(table.latent_logits[5]))
    torch.testing.assert_close(cdul_dataset.current_targets(),
                               torch.sigmoid(table.latent_logits))


def test_persistent_workers_serve_updated_latent_labels(cdul_dataset):
    table = cdul_dataset.label_table
    table.write('latent_logits', torch.zeros_like(table.latent_logits))
    loader = DataLoader(
        cdul_dataset,
        batch_size=4,
        num_workers=2,
        persistent_workers=True,
        collate_fn=pseudo_collate)

    def served():
        return torch.stack([
            sample.gt_score for batch in loader
            for sample in batch['data_samples']
        ])

    assert torch.equal(served(), torch.full_like(table.latent_logits, 0.5))
    table.write('latent_logits', torch.full_like(table.latent_logits, 2.0))
    # the same worker processes read the in-place update
    torch.testing.assert_close(
        served(), torch.full_like(table.latent_logits, 1 / (1 + math.exp(-2))))
