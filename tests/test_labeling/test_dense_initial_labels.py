"""Initial labels fused with the teacher's dense scores, through the
labeling pass and the hook's arguments."""
import numpy as np
import pytest
import torch
from mmpretrain.registry import HOOKS
from PIL import Image

import ccd_mm  # noqa: F401  (registers the hooks)
from ccd_mm.core import fuse_global_and_dense
from ccd_mm.labeling import GlobalViewDataset, label_global_views
from ccd_mm.teachers import CLIPTeacher
from tests.fixtures.tolerances import FLOAT64_STORED_AS_FLOAT32

CLASSES = ['cat', 'dog', 'bicycle', 'person']


def test_pass_fuses_each_view_with_its_dense_scores(tmp_path,
                                                    tiny_clip_resnet):
    rng = np.random.default_rng(0)
    paths = []
    for index, size in enumerate([(96, 64), (64, 64), (80, 120)]):
        path = tmp_path / f'{index}.png'
        Image.fromarray(
            rng.integers(0, 256, (*size[::-1], 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    # float64: the pass batches views the direct computation runs one by
    # one (tests/fixtures/tolerances.py).
    teacher = CLIPTeacher(
        **tiny_clip_resnet, class_names=CLASSES, device='cpu').double()
    trunk_passes = []
    hook = teacher.clip.visual.layer4.register_forward_hook(
        lambda *_: trunk_passes.append(1))
    scores, decoded, _ = label_global_views(
        teacher, paths, 128, batch_size=2, num_workers=0, dense_fusion=True)
    hook.remove()
    assert decoded.all()
    # Global and dense scores of a batch come from one pass of the trunk.
    assert len(trunk_passes) == 2
    views = GlobalViewDataset(paths, 128)
    for index in range(len(paths)):
        view = views[index][1][None]
        expected = fuse_global_and_dense(
            teacher(view), teacher.dense_probs(view))[0]
        torch.testing.assert_close(
            scores[index],
            expected.float(),
            rtol=0,
            atol=FLOAT64_STORED_AS_FLOAT32)
    plain, _, _ = label_global_views(
        teacher, paths, 128, batch_size=2, num_workers=0)
    # The tiny random teacher is nearly one-hot at logit scale 100, so
    # the fusion moves its rows little, but far beyond float32 rounding.
    assert (plain - scores).abs().max() > 1e-5


def test_dense_fusion_cannot_read_a_label_cache():
    with pytest.raises(ValueError, match='dense_fusion'):
        HOOKS.build(
            dict(
                type='CLIPInitialLabelHook',
                dense_fusion=True,
                label_cache='labels.pth'))
