"""The CAM label update hook's calibrated class thresholds: which images it
scores, in which order, and what it does with their scores."""
from types import SimpleNamespace

import torch
from mmpretrain.registry import HOOKS

import ccd_mm  # noqa: F401  (registers the hook)
from ccd_mm.core.cam import windowed_class_threshold
from ccd_mm.engine.hooks import cam_label_update_hook

NUM_IMAGES, NUM_CLASSES = 450, 20


def image_probs():
    """Per image a row of probabilities; the even images have 13 classes at
    0.0505 (which only t = 0.05 counts) and 5 at 0.9, the odd ones 5 at 0.9.
    """
    probs = torch.zeros(NUM_IMAGES, NUM_CLASSES)
    probs[:, :5] = 0.9
    probs[::2, 5:18] = 0.0505
    return probs


def test_windowed_threshold_scores_windows_of_the_seeded_order(monkeypatch):
    probs = image_probs()
    img_paths = [f'{index}.png' for index in range(NUM_IMAGES)]
    scored = []

    def classifier_scores(classifier, paths, *args):
        scored.append(list(paths))
        return probs[[int(path[:-4]) for path in paths]]

    monkeypatch.setattr(cam_label_update_hook, 'classifier_scores',
                        classifier_scores)
    hook = HOOKS.build(
        dict(
            type='CAMLabelUpdateHook',
            class_threshold='windowed',
            adaptive_bound=4,
            adaptive_samples=100,
            seed=7))
    dataset = SimpleNamespace(
        image_paths=lambda: img_paths, image_decoder=None)
    threshold = hook._threshold(None, dataset, epoch=2)

    order = torch.randperm(
        NUM_IMAGES, generator=torch.Generator().manual_seed(9)).tolist()
    assert [path for window in scored
            for path in window] == [img_paths[i] for i in order[:300]]
    assert threshold == windowed_class_threshold([probs[order]], 4)
    # Window 1 at t = 0.05 counts about 5 + 13 / 2 each; at 0.051 the
    # windows count 5 each: the pass stops at image 200, in window 3.
    assert threshold == 0.05 + 0.001
    assert len(scored) == 3
