"""Pseudo-label quality against the ground truth of the training split.

**This module is the only place in ccd_mm that reads the ground truth of a
training split.** Training, label updates and the label-free checkpoint
selection never do (``CLIPPseudoLabelDataset`` strips the annotations);
this report exists to measure how good the pseudo-labels are (CCD 4.2
reports the mAP of the initial labels on the train sets), after the fact.

VOC convention: a class present in an image only through objects marked
difficult is ignored for that image (target -1, skipped by the AP), as
mmpretrain's ``VOCAveragePrecision`` does on the test split.
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmpretrain.evaluation import AveragePrecision
from torch import Tensor

from ccd_mm.core import pseudo_label_statistics
from ccd_mm.datasets import CLIPPseudoLabelDataset


def train_ground_truth(dataset: CLIPPseudoLabelDataset) -> Tensor:
    """The (N, C) ground truth of the wrapped training split: 1 present,
    0 absent, -1 present only as difficult objects (VOC).

    Reads the inner split's annotations, which the wrapper hides from
    training; used for the quality report only.

    Raises:
        ValueError: the split has no labels (a folder of images).
    """
    split = dataset.dataset
    split.full_init()
    num_classes = len(dataset.metainfo['classes'])
    targets = torch.zeros(len(split), num_classes)
    for index in range(len(split)):
        info = split.get_data_info(index)
        if 'gt_label' not in info:
            raise ValueError(
                f'the training split ({type(split).__name__}) has no labels, '
                f'e.g. for {info["img_path"]}: no ground truth to compare '
                'the pseudo-labels with')
        difficult = info.get('gt_label_difficult')
        if difficult is not None:
            targets[index, torch.as_tensor(difficult, dtype=torch.long)] = -1
        # After the difficult ones: a class with a plain object is present.
        targets[index, torch.as_tensor(info['gt_label'], dtype=torch.long)] = 1
    return targets


def _class_average_precision(scores: Tensor,
                             ground_truth: Tensor) -> List[Optional[float]]:
    """AP (%) per class; None for a class with no positive image, which
    mmpretrain would score 0."""
    values = AveragePrecision.calculate(scores, ground_truth, average=None)
    has_positive = (ground_truth == 1).any(0)
    return [
        float(value) if present else None
        for value, present in zip(values, has_positive.tolist())
    ]


def _mean_by_truth(labels: Tensor,
                   ground_truth: Tensor) -> Dict[str, Optional[float]]:
    """Mean label on the (image, class) pairs the ground truth marks present
    (1) and absent (0); difficult ones (-1) are in neither. A label set can
    rank well (mAP) and still teach little: BCE to soft targets pulls the
    classifier's scores towards these two means, and the gap between them
    is how far apart it learns to put the present and absent classes."""
    means = {}
    for key, truth in (('mean_on_present', 1), ('mean_on_absent', 0)):
        values = labels[ground_truth == truth]
        means[key] = float(values.float().mean()) if values.numel() else None
    return means


def pseudo_label_report(stages: Dict[str, Tensor],
                        ground_truth: Tensor,
                        bias: Tensor,
                        valid: Tensor,
                        classes: Sequence[str],
                        threshold: float = 0.5) -> dict:
    """Quality numbers of each stage's pseudo-labels.

    Args:
        stages (dict): name -> (N, C) labels, e.g. from
            the target transform's ``label_stages``.
        ground_truth (Tensor): (N, C) from :func:`train_ground_truth`.
        bias (Tensor): (C,) the class bias b (CCD 3.3).
        valid (Tensor): (N,) bool, images that decoded; the others have no
            label and are left out.
        classes (Sequence[str]): class names.
        threshold (float): a label counts as positive at ``>= threshold``
            in the per-image counts. Defaults to 0.5.

    Returns:
        dict: ``num_images``, ``num_undecoded``, ``threshold``,
        ``ground_truth`` (labels per image), ``stages`` (per stage: ``mAP``
        over the classes with a positive image,
        :func:`pseudo_label_statistics`, and ``mean_on_present`` /
        ``mean_on_absent``, the mean label on the image-class pairs the
        ground truth marks present / absent, None without any), ``per_class``
        (per class: name, bias, positives, AP per stage, None without
        positives).
    """
    ground_truth = ground_truth[valid]
    present = (ground_truth == 1).float()
    stage_numbers, class_ap = {}, {}
    for name, labels in stages.items():
        labels = labels[valid]
        class_ap[name] = _class_average_precision(labels, ground_truth)
        defined = [value for value in class_ap[name] if value is not None]
        stage_numbers[name] = dict(
            mAP=sum(defined) / len(defined) if defined else None,
            **pseudo_label_statistics(labels, threshold),
            **_mean_by_truth(labels, ground_truth))
    per_class = []
    for index, name in enumerate(classes):
        per_class.append(
            dict(
                name=name,
                bias=float(bias[index]),
                positives=int(present[:, index].sum()),
                AP={stage: class_ap[stage][index]
                    for stage in stages}))
    return dict(
        num_images=int(valid.sum()),
        num_undecoded=int((~valid).sum()),
        threshold=threshold,
        ground_truth=dict(
            labels_per_image=pseudo_label_statistics(present)
            ['labels_per_image']),
        stages=stage_numbers,
        per_class=per_class)


def _number(value: Optional[float], digits: int = 2) -> str:
    return 'n/a' if value is None else f'{value:.{digits}f}'


def format_report(report: dict) -> str:
    """The report as two text tables: one row per stage, one per class."""
    stages = list(report['stages'])
    lines = [
        f'Pseudo-label quality on {report["num_images"]} training images '
        f'({report["num_undecoded"]} undecodable left out); positives at '
        f'>= {report["threshold"]}', '',
        f'{"stage":<12}{"mAP":>8}{"labels/img":>12}{"saturated/img":>15}'
        f'{"mean":>8}{"on present":>12}{"on absent":>11}'
    ]
    for name, numbers in report['stages'].items():
        lines.append(f'{name:<12}{_number(numbers["mAP"]):>8}'
                     f'{numbers["labels_per_image"]:>12.2f}'
                     f'{numbers["saturated_per_image"]:>15.2f}'
                     f'{numbers["mean_value"]:>8.3f}'
                     f'{_number(numbers["mean_on_present"], 3):>12}'
                     f'{_number(numbers["mean_on_absent"], 3):>11}')
    lines.append(f'{"ground truth":<12}{"":>8}'
                 f'{report["ground_truth"]["labels_per_image"]:>12.2f}')
    width = max([len(entry['name']) for entry in report['per_class']] + [5])
    lines += [
        '', f'{"class":<{width}}{"bias":>8}{"positives":>11}' +
        ''.join(f'{"AP " + name:>14}' for name in stages)
    ]
    for entry in report['per_class']:
        lines.append(f'{entry["name"]:<{width}}{entry["bias"]:>8.3f}'
                     f'{entry["positives"]:>11}' +
                     ''.join(f'{_number(entry["AP"][name]):>14}'
                             for name in stages))
    return '\n'.join(lines)
