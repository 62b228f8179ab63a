"""CAM label update throughput (CCD 3.2): ``cam_local_scores`` (classifier,
CAM boxes, crop decoding, teacher on the crops) against the pure-forward
limit on the same pre-decoded views and crops, and against a batch-1 loop
like the released script's, and against the same boxes pooled on one
dense teacher pass per view (``local_labels='dense'``). Also times the two
ways to batch crops of many shapes, each over all crops of the split in
full teacher batches: bucketing by shape (what the pass's
``StreamingCropLabeler`` does) and letterboxing onto a few canvas sizes.

Every class is selected (class threshold 0), so an image has
``--num-classes`` crops. Prints one JSON line. CPU, tiny models (default)::

    python tools/benchmarks/bench_label_update.py --num-images 64

GPU at the paper's size (RN50x64 teacher, ResNet-101 classifier at 640)::

    python tools/benchmarks/bench_label_update.py \
        --model-name RN50x64-quickgelu --view-size 640 --crop-size 640 \
        --image-size 640 --size-divisor 32 --classifier-depth 101 \
        --classifier-width 64 --num-images 256 --num-workers 8
"""
import argparse
from typing import List, Sequence

import torch
import torch.nn.functional as F
from benchmark_setup import (add_classifier_arguments, add_common_arguments,
                             best_times, classifier_config, emit,
                             images_and_teacher, log, machine, pass_startup,
                             set_threads)
from mmpretrain.registry import MODELS

import ccd_mm  # noqa: F401  (registers the CAM head)
from ccd_mm.core.aggregate import local_max
from ccd_mm.core.cam import cam_to_boxes
from ccd_mm.labeling import (CropViewDataset, GlobalViewDataset,
                             cam_local_scores, classifier_cams)

CAM_THRESHOLD = 0.95


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_common_arguments(parser, view_size=64, num_images=64)
    parser.set_defaults(batch_size=16)
    add_classifier_arguments(parser, depth=18, width=16)
    parser.add_argument(
        '--crop-size',
        type=int,
        default=128,
        help='longer side of a crop given to the teacher (paper: 640)')
    parser.add_argument(
        '--size-divisor',
        type=int,
        default=16,
        help='crop sides are rounded to multiples of it (paper setting: 32 '
        'at 640, i.e. 20 sizes per side)')
    parser.add_argument(
        '--loop-images',
        type=int,
        default=4,
        help='images timed in the batch-1 loop (its rate per image is what '
        'is compared)')
    return parser.parse_args(argv)


def letterbox_sides(crop_size: int, size_divisor: int,
                    num_canvases: int) -> List[int]:
    """Shorter sides of the letterbox canvases: ``num_canvases`` sizes
    spread evenly up to ``crop_size`` (1 = square canvases only)."""
    return sorted({
        max(size_divisor,
            round(crop_size * k / num_canvases / size_divisor) * size_divisor)
        for k in range(1, num_canvases + 1)
    })


def letterbox(crop: torch.Tensor, sides: Sequence[int]) -> torch.Tensor:
    """The crop centred on the smallest canvas that holds it, zero padded."""
    height, width = crop.shape[-2:]
    short = next(side for side in sides if side >= min(height, width))
    long = max(height, width)
    canvas_h, canvas_w = (long, short) if height >= width else (short, long)
    top, left = (canvas_h - height) // 2, (canvas_w - width) // 2
    return F.pad(crop,
                 (left, canvas_w - width - left, top, canvas_h - height - top))


def update_one_at_a_time(classifier, teacher, img_paths, args) -> torch.Tensor:
    """The released script's pattern: per image, a batch-1 classifier pass,
    then one teacher forward per crop."""
    box_offset = round(80 * args.view_size / 640)
    views = GlobalViewDataset(img_paths, args.view_size)
    rows = []
    for index, path in enumerate(img_paths):
        _, cams = classifier_cams(classifier, views[index][1][None])
        boxes = cam_to_boxes(cams[0], (args.view_size, args.view_size),
                             CAM_THRESHOLD, box_offset)
        _, crops = CropViewDataset([path], [boxes], args.view_size,
                                   args.crop_size, args.size_divisor)[0]
        scores = torch.cat([teacher(crop[None]) for crop in crops])
        rows.append(scores.max(dim=0).values)
    return torch.stack(rows)


def main(argv=None):
    args = parse_args(argv)
    set_threads(args)
    img_paths, teacher = images_and_teacher(args)
    torch.manual_seed(args.seed)
    classifier = MODELS.build(
        classifier_config(
            args,
            head=dict(type='CAMMultiLabelHead'),
            data_preprocessor=dict(type='ClsDataPreprocessor')))
    classifier.to(args.device).eval()
    box_offset = round(80 * args.view_size / 640)
    log(f'CAM update of {len(img_paths)} images ({args.num_classes} crops '
        f'each, crops at {args.crop_size} px) on {args.device}')

    # Pre-decoded inputs of the limit: views, their CAM boxes and crops.
    views_dataset = GlobalViewDataset(img_paths, args.view_size)
    views = torch.stack([views_dataset[i][1] for i in range(len(img_paths))])
    boxes = []
    for chunk in views.split(args.batch_size):
        _, cams = classifier_cams(classifier, chunk)
        boxes += [
            cam_to_boxes(cam, (args.view_size, args.view_size), CAM_THRESHOLD,
                         box_offset).cpu() for cam in cams
        ]
    crop_dataset = CropViewDataset(img_paths, boxes, args.view_size,
                                   args.crop_size, args.size_divisor)
    crops_per_image = [crop_dataset[i][1] for i in range(len(img_paths))]
    all_crops = [
        crop.to(args.device) for crops in crops_per_image for crop in crops
    ]
    views = views.to(args.device)
    sides = {
        f'letterbox_{count}':
        letterbox_sides(args.crop_size, args.size_divisor, count)
        for count in (1, 3)
    }
    teacher.label_views(all_crops[:args.batch_size])  # warm-up

    def classify_views():
        for chunk in views.split(args.batch_size):
            classifier_cams(classifier, chunk)

    def update(paths, local_labels='crops'):
        return cam_local_scores(
            classifier,
            teacher,
            paths,
            view_size=args.view_size,
            crop_size=args.crop_size,
            class_threshold=0.0,
            cam_threshold=CAM_THRESHOLD,
            box_offset=box_offset,
            batch_size=args.batch_size,
            num_workers=args.num_workers,
            size_divisor=args.size_divisor,
            local_labels=local_labels)

    runs = dict(
        project=lambda: update(img_paths),
        # The same boxes pooled on one dense teacher pass per view.
        project_dense=lambda: update(img_paths, 'dense'),
        project_first_batch=lambda: update(img_paths[:args.batch_size]),
        classifier_forward=classify_views,
        # All crops of a shape over the whole split in one stack, run in
        # full teacher batches: the limit the streaming labeler approaches.
        crops_bucketed=lambda: teacher.label_views(all_crops),
        batch1_loop=lambda: update_one_at_a_time(
            classifier, teacher, img_paths[:args.loop_images], args))
    for name, canvas_sides in sides.items():
        runs[name] = (lambda canvas_sides=canvas_sides: teacher.label_views(
            [letterbox(crop, canvas_sides) for crop in all_crops]))
    timed = best_times(runs, args.repeats, args.device)

    num_images = len(img_paths)
    local, stats = timed['project'].result
    project_s = timed['project'].seconds
    limit_s = (
        timed['classifier_forward'].seconds + timed['crops_bucketed'].seconds)
    loop_s = timed['batch1_loop'].seconds
    project_rate = num_images / project_s
    startup_s, project_rate_steady = pass_startup(
        project_s, timed['project_first_batch'].seconds, num_images,
        min(num_images, args.batch_size))
    limit_rate = num_images / limit_s
    loop_rate = args.loop_images / loop_s
    crop_pixels = sum(crop[0].numel() for crop in all_crops)
    exact = timed['crops_bucketed'].result.cpu()
    crop_batching = dict(
        distinct_crop_shapes=len({tuple(c.shape)
                                  for c in all_crops}),
        bucketed=dict(
            seconds=timed['crops_bucketed'].seconds,
            cpu_seconds=timed['crops_bucketed'].cpu_seconds))
    for name, canvas_sides in sides.items():
        padded = [letterbox(crop, canvas_sides) for crop in all_crops]
        crop_batching[name] = dict(
            canvas_short_sides=canvas_sides,
            seconds=timed[name].seconds,
            cpu_seconds=timed[name].cpu_seconds,
            pixel_overhead=sum(c[0].numel() for c in padded) / crop_pixels - 1,
            max_abs_score_change=float(
                (timed[name].result.cpu() - exact).abs().max()))
    # CPU time decides: on a shared machine it does not count the time the
    # process waited for a core.
    crop_batching['fastest'] = min(
        ['bucketed'] + list(sides),
        key=lambda name: crop_batching[name]['cpu_seconds'])
    owner = torch.arange(num_images).repeat_interleave(
        torch.tensor([len(crops) for crops in crops_per_image]))
    emit(
        dict(
            benchmark='label_update',
            model_name=args.model_name,
            classifier=f'ResNet-{args.classifier_depth} '
            f'width {args.classifier_width}',
            device=args.device,
            view_size=args.view_size,
            crop_size=args.crop_size,
            size_divisor=args.size_divisor,
            image_size=args.image_size,
            num_images=num_images,
            num_classes=args.num_classes,
            batch_size=args.batch_size,
            num_workers=args.num_workers,
            mean_crops=stats['mean_crops'],
            project_images_per_s=project_rate,
            dense_images_per_s=num_images / timed['project_dense'].seconds,
            dense_speedup_vs_crops=project_s / timed['project_dense'].seconds,
            dense_cpu_speedup_vs_crops=timed['project'].cpu_seconds /
            timed['project_dense'].cpu_seconds,
            project_steady_images_per_s=project_rate_steady,
            pass_startup_s=startup_s,
            limit_images_per_s=limit_rate,
            batch1_loop_images_per_s=loop_rate,
            ratio_vs_limit=project_rate_steady / limit_rate,
            speedup_vs_batch1_loop=project_rate_steady / loop_rate,
            max_abs_diff_vs_limit=float(
                (local - local_max(exact, owner, num_images)).abs().max()),
            max_abs_diff_vs_loop=float(
                (local[:args.loop_images] -
                 timed['batch1_loop'].result.cpu()).abs().max()),
            crop_batching=crop_batching,
            machine=machine()))


if __name__ == '__main__':
    main()
