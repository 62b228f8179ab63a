"""How CLIP-like a teacher is on ShapesML.

The teacher is loaded through ``CLIPTeacher`` (the path the method uses)
and run on held-out ShapesML scenes. Reported, with CCD's reference points:

* global view (the whole scene): how often its top-1 class is present, and
  recall of objects by size (an object is found when its class is among the
  scene's k most probable, k = number of objects, or has probability at
  least ``--recall-threshold``); real CLIP finds large objects and misses
  small ones (CCD Sec. 1);
* global-view macro mAP against the crop-oracle ceiling: the teacher on a
  crop around each ground-truth box (grown by ``--box-offset`` and resized
  as the CAM crops of CCD Sec. 3.2), per-class max over the crops (Eq. 5);
  for real CLIP on VOC12 the initial labels reach 85.3 mAP and the trained
  CCD classifier 90.1;
* the CLIP bias (CCD Sec. 3.3, ``estimate_clip_bias`` with tau_H) with its
  spread, and how often each class is the top-1 class of a scene;
* how the teacher reads objects that a box edge cuts: top-1 accuracy on a
  crop around each ground-truth object, its box grown as above and then
  ``--cuts`` of its width or height cut away at one edge (the four edges in
  turn, object by object); real CLIP reads a truncated object, and CCD's
  tight CAM boxes (threshold 0.95) often cut theirs;
* the dense reading of one pass (MaskCLIP's value path,
  ``CLIPTeacher.dense_embeddings``): the mAP of the global view fused with
  its dense scores (``CLIPInitialLabelHook(dense_fusion=True)``), and a
  dense box oracle, the ground-truth boxes pooled on the dense map of the
  whole view at ``--dense-view-size`` (``CAMLabelUpdateHook(
  local_labels='dense')``), beside the crop oracle.

Prints a markdown report and, last, one JSON line.

Example::

    python tools/shapesml/teacher_realism.py \
        --teacher work_dirs/shapesml_teacher/shapesml-clip-rn.pt \
        --data data/shapesml --split test
"""
import argparse
import json
from typing import Dict, Sequence, Tuple

import numpy as np
import torch
from mmpretrain.evaluation import AveragePrecision
from torch.utils.data import DataLoader

from ccd_mm.core.aggregate import fuse_global_and_dense
from ccd_mm.core.bias import confident_mask, estimate_clip_bias
from ccd_mm.core.box_pooling import pool_in_boxes
from ccd_mm.datasets import ShapesML
from ccd_mm.datasets.shapesml_generator import SHAPESML_CLASSES
from ccd_mm.labeling import (BOX_EDGES, crop_oracle_probs, cut_boxes,
                             grown_boxes)
from ccd_mm.labeling.cam_label_update import resized_views
from ccd_mm.labeling.image_views import CropViewDataset, GlobalViewDataset
from ccd_mm.teachers import CLIPTeacher


@torch.no_grad()
@torch.no_grad()
def view_readings(
        teacher: CLIPTeacher, paths: Sequence[str],
        boxes: Sequence[torch.Tensor], view_size: int, dense_size: int,
        batch_size: int) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """What one pass over the square global views reads, each ``(N, C)``:
    the global scores, the global scores fused with the dense ones, and the
    per-class max over each image's boxes pooled on the dense map of the
    ``dense_size`` view (the same pass when it is ``view_size``); ``boxes``
    in pixels of the ``view_size`` view."""
    views = DataLoader(
        GlobalViewDataset(paths, view_size), batch_size=batch_size)
    global_scores, fused, pooled = [], [], []
    for indices, batch in views:
        embeddings, maps = teacher.pooled_and_dense_embeddings(batch)
        scores = teacher.probs_of_embeddings(embeddings)
        global_scores.append(scores)
        fused.append(
            fuse_global_and_dense(
                scores,
                teacher.probs_of_embeddings(maps).permute(0, 3, 1, 2)))
        if dense_size != view_size:
            maps = teacher.dense_embeddings(resized_views(batch, dense_size))
        for index, dense in zip(indices.tolist(), maps):
            box_scores = teacher.probs_of_embeddings(
                pool_in_boxes(dense, boxes[index], view_size))
            pooled.append(box_scores.max(dim=0).values)
    return torch.cat(global_scores), torch.cat(fused), torch.stack(pooled)


@torch.no_grad()
def cut_object_accuracy(teacher: CLIPTeacher, paths: Sequence[str],
                        boxes: Sequence[torch.Tensor],
                        labels: Sequence[torch.Tensor], view_size: int,
                        crop_size: int,
                        fractions: Sequence[float]) -> Dict[str, float]:
    """Top-1 accuracy of the teacher on one crop per object, for each
    fraction of the object's box cut away at one edge.

    Args:
        boxes: per image, ``(K, 4)`` boxes on the view (already grown).
        labels: per image, ``(K,)`` the class of each box.
        fractions: shares of the box side cut away, see
            :func:`~ccd_mm.labeling.cut_boxes`.

    Returns:
        dict: ``{str(fraction): accuracy}``.
    """
    counts = [len(image_boxes) for image_boxes in boxes]
    edges = (torch.arange(sum(counts)) % len(BOX_EDGES)).split(counts)
    truth = torch.cat([torch.as_tensor(label) for label in labels])
    accuracy = {}
    for fraction in fractions:
        crops = CropViewDataset(paths, [
            cut_boxes(image_boxes, fraction, image_edges)
            for image_boxes, image_edges in zip(boxes, edges)
        ], view_size, crop_size)
        views = [
            view for index in range(len(crops)) for view in crops[index][1]
        ]
        top1 = teacher.label_views(views).argmax(dim=1)
        accuracy[str(fraction)] = top1.eq(truth).float().mean().item()
    return accuracy


def object_recall(probs: torch.Tensor, infos: Sequence[dict],
                  small_size: float, threshold: float) -> dict:
    """Share of small / large objects found by the global view."""
    found = dict(small=[], large=[])
    for row, info in zip(probs, infos):
        labels = info['gt_bboxes_labels'].tolist()
        rank = row.argsort(descending=True).argsort()
        for (x1, y1, x2, y2), label in zip(info['gt_bboxes'].tolist(), labels):
            side = max(x2 - x1, y2 - y1) / max(info['width'], info['height'])
            in_top_k = bool(rank[label] < len(labels))
            above = bool(row[label] >= threshold)
            found['small' if side < small_size else 'large'].append(
                (in_top_k, above))
    summary = {}
    for size, hits in found.items():
        hits = np.array(hits, dtype=np.float64).reshape(-1, 2)
        shares = hits.mean(axis=0).tolist() if len(hits) else [None, None]
        summary[size] = dict(
            objects=len(hits), top_k=shares[0], above_threshold=shares[1])
    return summary


def realism_report(global_p: torch.Tensor, oracle_p: torch.Tensor,
                   cut_top1: Dict[str,
                                  float], infos: Sequence[dict], tau: float,
                   small_size: float, threshold: float, fused_p: torch.Tensor,
                   dense_oracle_p: torch.Tensor) -> dict:
    """All figures of the report as a JSON-ready dict."""
    num_classes = global_p.shape[1]
    target = torch.zeros_like(global_p, dtype=torch.long)
    for row, info in zip(target, infos):
        row[info['gt_label']] = 1
    top1 = global_p.argmax(dim=1)
    bias, has_estimate = estimate_clip_bias(global_p, tau)
    estimated = bias[has_estimate]
    global_ap = AveragePrecision.calculate(global_p, target, average=None)
    oracle_ap = AveragePrecision.calculate(oracle_p, target, average=None)
    return dict(
        num_images=len(infos),
        top1_in_gt=target.gather(1, top1[:, None]).float().mean().item(),
        recall=object_recall(global_p, infos, small_size, threshold),
        global_map=global_ap.mean().item(),
        oracle_map=oracle_ap.mean().item(),
        dense_fused_map=AveragePrecision.calculate(fused_p, target).item(),
        dense_box_oracle_map=AveragePrecision.calculate(
            dense_oracle_p, target).item(),
        cut_object_top1=cut_top1,
        bias_tau=tau,
        confident_images=int(confident_mask(global_p, tau).sum()),
        classes_with_bias=int(has_estimate.sum()),
        bias_min=estimated.min().item() if len(estimated) else None,
        bias_max=estimated.max().item() if len(estimated) else None,
        bias_std=estimated.std().item() if len(estimated) > 1 else None,
        per_class=[
            dict(
                name=SHAPESML_CLASSES[c],
                global_ap=global_ap[c].item(),
                oracle_ap=oracle_ap[c].item(),
                bias=bias[c].item() if has_estimate[c] else None,
                top1_share=(top1 == c).float().mean().item(),
                gt_share=target[:, c].float().mean().item())
            for c in range(num_classes)
        ])


def markdown(report: dict) -> str:
    """The report as markdown tables."""
    recall = report['recall']
    lines = [
        '| figure | value |', '|---|---|',
        f"| global top-1 is a true class | {report['top1_in_gt']:.1%} |",
        f"| global-view mAP | {report['global_map']:.1f} |",
        f"| crop-oracle mAP | {report['oracle_map']:.1f} |",
        f"| gap (oracle - global) | "
        f"{report['oracle_map'] - report['global_map']:.1f} |",
        f"| global view fused with its dense scores, mAP | "
        f"{report['dense_fused_map']:.1f} |",
        f"| dense box oracle (boxes pooled on one pass), mAP | "
        f"{report['dense_box_oracle_map']:.1f} |"
    ]
    for fraction, accuracy in report['cut_object_top1'].items():
        lines.append(f'| top-1 on object crops, {float(fraction):.0%} of the '
                     f'box cut at one edge | {accuracy:.1%} |')
    for size in ('large', 'small'):
        r = recall[size]
        if r['objects']:
            lines.append(
                f"| recall, {size} objects ({r['objects']}): top-k / "
                f"p >= thr | {r['top_k']:.1%} / {r['above_threshold']:.1%} |")
    if report['classes_with_bias']:
        lines.append(
            f"| bias (tau_H {report['bias_tau']}; "
            f"{report['classes_with_bias']} classes estimated from "
            f"{report['confident_images']} confident images): min / max / "
            f"std | {report['bias_min']:.3f} / {report['bias_max']:.3f} / "
            f"{report['bias_std'] or 0:.3f} |")
    lines += [
        '', '| class | global AP | oracle AP | bias | top-1 share | '
        'GT share |', '|---|---|---|---|---|---|'
    ]
    for row in report['per_class']:
        bias = '-' if row['bias'] is None else f"{row['bias']:.3f}"
        lines.append(f"| {row['name']} | {row['global_ap']:.1f} | "
                     f"{row['oracle_ap']:.1f} | {bias} | "
                     f"{row['top1_share']:.1%} | {row['gt_share']:.1%} |")
    return '\n'.join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Realism report of a CLIP teacher on ShapesML')
    parser.add_argument('--teacher', required=True, help='weight file')
    parser.add_argument('--data', default='data/shapesml')
    parser.add_argument('--split', default='test')
    parser.add_argument('--model-name', default='shapesml-clip-rn')
    parser.add_argument(
        '--model-config',
        default='configs/shapes/teacher/shapesml-clip-rn.json')
    parser.add_argument('--normalization', default='clip')
    parser.add_argument(
        '--view-size',
        type=int,
        help='global view side (default: the model\'s native input size)')
    parser.add_argument(
        '--crop-size',
        type=int,
        help='longer side of a crop (default: the view size)')
    parser.add_argument(
        '--box-offset',
        type=int,
        help='px added around each ground-truth box in view coordinates '
        '(default: view size / 8, the paper\'s 80 px on 640)')
    parser.add_argument(
        '--dense-view-size',
        type=int,
        help='side of the view whose dense map the boxes are pooled on '
        '(default: the crop size)')
    parser.add_argument(
        '--cuts',
        type=float,
        nargs='+',
        default=[0., 0.25, 0.5],
        help='shares of an object\'s grown box cut away at one edge for the '
        'cut-object accuracy')
    parser.add_argument(
        '--tau', type=float, default=0.5, help='entropy threshold tau_H')
    parser.add_argument(
        '--small-size',
        type=float,
        default=0.3,
        help='an object is small when its longer box side is below this '
        'share of the image side')
    parser.add_argument('--recall-threshold', type=float, default=0.1)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--threads', type=int, default=1)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    teacher = CLIPTeacher(
        args.model_name,
        args.teacher,
        SHAPESML_CLASSES,
        model_config=args.model_config,
        normalization=args.normalization,
        batch_size=args.batch_size,
        device='cpu')
    size = teacher.clip.visual.image_size
    args.view_size = args.view_size or (size
                                        if isinstance(size, int) else size[0])
    args.crop_size = args.crop_size or args.view_size
    args.dense_view_size = args.dense_view_size or args.crop_size
    if args.box_offset is None:
        args.box_offset = args.view_size // 8
    split = ShapesML(args.data, args.split)
    infos = [split.get_data_info(index) for index in range(len(split))]
    paths = [info['img_path'] for info in infos]
    boxes = grown_boxes([info['gt_bboxes'] for info in infos],
                        [(info['width'], info['height']) for info in infos],
                        args.view_size, args.box_offset)
    global_p, fused_p, dense_oracle_p = view_readings(teacher, paths, boxes,
                                                      args.view_size,
                                                      args.dense_view_size,
                                                      args.batch_size)
    oracle_p = crop_oracle_probs(teacher, paths, boxes, args.view_size,
                                 args.crop_size)
    cut_top1 = cut_object_accuracy(
        teacher, paths, boxes, [info['gt_bboxes_labels'] for info in infos],
        args.view_size, args.crop_size, args.cuts)
    report = realism_report(global_p, oracle_p, cut_top1, infos, args.tau,
                            args.small_size, args.recall_threshold, fused_p,
                            dense_oracle_p)
    print(markdown(report))
    print(json.dumps(dict(args=vars(args), **report)))
    return report


if __name__ == '__main__':
    main()
