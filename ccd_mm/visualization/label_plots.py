"""Charts of the class bias and of the pseudo-label values (matplotlib,
drawn on a figure of its own so nothing touches pyplot's global state)."""
from typing import Dict, Sequence

import numpy as np
from matplotlib.figure import Figure
from torch import Tensor


def plot_class_bias(bias: Tensor, class_names: Sequence[str],
                    out_file: str) -> None:
    """Bar chart of the CLIP bias b_c per class (CCD 3.3), with b = 1 (no
    correction, also the fallback of classes without estimate) marked.

    Args:
        bias (Tensor): (C,) class bias.
        class_names (Sequence[str]): the C class names.
        out_file (str): PNG file to write.
    """
    figure = Figure(
        figsize=(max(6.0, 0.35 * len(class_names) + 1), 4),
        layout='constrained')
    axes = figure.subplots()
    positions = np.arange(len(class_names))
    axes.bar(positions, bias.float().numpy(), color='tab:blue')
    axes.axhline(
        1.0,
        color='tab:red',
        linestyle='--',
        linewidth=1,
        label='b = 1 (no correction)')
    axes.set_xticks(positions, list(class_names), rotation=60, ha='right')
    axes.set_ylabel('bias b (mean confident top-1 probability)')
    axes.set_ylim(0, 1.05)
    axes.set_title('CLIP class bias')
    axes.legend(loc='lower right')
    figure.savefig(out_file, dpi=100)


def plot_label_histograms(stages: Dict[str, Tensor],
                          out_file: str,
                          bins: int = 20) -> None:
    """Histograms of the pseudo-label values at each stage (e.g. initial,
    debiased, updated), overlaid, on a log count axis (most entries are near
    0).

    Args:
        stages (dict): stage name -> (N, C) labels in [0, 1].
        out_file (str): PNG file to write.
        bins (int): equal-width bins over [0, 1]. Defaults to 20.
    """
    figure = Figure(figsize=(7, 4), layout='constrained')
    axes = figure.subplots()
    edges = np.linspace(0, 1, bins + 1)
    for name, labels in stages.items():
        axes.hist(
            labels.flatten().float().numpy(),
            bins=edges,
            histtype='step',
            linewidth=2,
            label=name)
    axes.set_yscale('log')
    axes.set_xlabel('pseudo-label value')
    axes.set_ylabel('entries (image x class)')
    axes.set_title('Pseudo-label values per stage')
    axes.legend()
    figure.savefig(out_file, dpi=100)
