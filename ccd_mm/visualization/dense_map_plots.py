"""The teacher's dense class scores of one view drawn beside the view
(matplotlib, on a figure of its own as in :mod:`.label_plots`)."""
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from torch import Tensor


def plot_dense_maps(view: np.ndarray, dense_probs: Tensor,
                    global_probs: Tensor, class_names: Sequence[str],
                    classes: Sequence[int], out_file: str) -> None:
    """The view, then one panel per class of ``classes``: the view in grey
    under the class's probability at each location of the dense map (one
    cell per location, nearest-neighbour), titled with the class's global
    score and its max over locations.

    Args:
        view (np.ndarray): ``(H, W, 3)`` uint8 RGB, the view the teacher
            read.
        dense_probs (Tensor): ``(C, h, w)`` softmax over the classes per
            location (``CLIPTeacher.dense_probs``).
        global_probs (Tensor): ``(C,)`` the whole view's probabilities.
        class_names (Sequence[str]): the C class names.
        classes (Sequence[int]): the classes to draw, in panel order.
        out_file (str): PNG file to write.
    """
    figure = Figure(
        figsize=(2.6 * (1 + len(classes)), 3), layout='constrained')
    axes = figure.subplots(1, 1 + len(classes), squeeze=False)[0]
    height, width = view.shape[:2]
    axes[0].imshow(view)
    axes[0].set_title('teacher view')
    grey = view.mean(axis=2)
    for panel, index in zip(axes[1:], classes):
        panel.imshow(grey, cmap='gray', vmin=0, vmax=255)
        scores = dense_probs[index].float().numpy()
        image = panel.imshow(
            scores,
            cmap='magma',
            vmin=0,
            vmax=1,
            alpha=0.75,
            interpolation='nearest',
            extent=(0, width, height, 0))
        panel.set_title(f'{class_names[index]}\nglobal '
                        f'{float(global_probs[index]):.2f}, max '
                        f'{scores.max():.2f}')
    for panel in axes:
        panel.set_xticks([])
        panel.set_yticks([])
    if len(classes):
        figure.colorbar(image, ax=axes[-1], fraction=0.05)
    figure.savefig(out_file, dpi=100)
