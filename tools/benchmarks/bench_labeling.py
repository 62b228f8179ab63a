"""Initial labeling throughput (CCD 3.1): ``label_global_views`` against a
pure batched teacher forward on the same pre-decoded views, and against a
one-image-at-a-time loop like the released script's.

Prints one JSON line. CPU with the tiny random teacher (default)::

    python tools/benchmarks/bench_labeling.py --num-images 256

GPU at the paper's size (random RN50x64 weights, 640 px views)::

    python tools/benchmarks/bench_labeling.py --model-name RN50x64-quickgelu \
        --view-size 640 --image-size 640 --num-images 512 --num-workers 8
"""
import argparse

import torch
from benchmark_setup import (add_common_arguments, best_times,
                             decode_inclusive_limit, emit, images_and_teacher,
                             log, machine, pass_startup, set_threads)

from ccd_mm.labeling import GlobalViewDataset, label_global_views


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_common_arguments(parser, view_size=64, num_images=256)
    parser.add_argument(
        '--loop-images',
        type=int,
        default=64,
        help='images timed in the batch-1 loop (it is slow; its rate per '
        'image is what is compared)')
    return parser.parse_args(argv)


def label_one_at_a_time(teacher, img_paths, view_size) -> torch.Tensor:
    """The released script's pattern: decode, resize and forward each image
    alone in the main process."""
    views = GlobalViewDataset(img_paths, view_size)
    return torch.cat(
        [teacher(views[index][1][None]) for index in range(len(img_paths))])


def main(argv=None):
    args = parse_args(argv)
    set_threads(args)
    img_paths, teacher = images_and_teacher(args)
    log(f'labeling {len(img_paths)} images at {args.view_size} px with '
        f'{args.model_name} on {args.device}')

    views_dataset = GlobalViewDataset(img_paths, args.view_size)
    views = torch.stack([views_dataset[i][1] for i in range(len(img_paths))])
    views = views.to(args.device)
    teacher(views[:args.batch_size])  # warm-up (allocator, kernels)

    loop_paths = img_paths[:args.loop_images]
    first_batch = img_paths[:args.batch_size]
    timed = best_times(
        dict(
            project=lambda:
            label_global_views(teacher, img_paths, args.view_size, args.
                               batch_size, args.num_workers),
            project_first_batch=lambda: label_global_views(
                teacher, first_batch, args.view_size, args.batch_size, args.
                num_workers),
            pure_forward=lambda: teacher(views),
            decode=lambda: [views_dataset[i] for i in range(len(img_paths))],
            batch1_loop=lambda: label_one_at_a_time(teacher, loop_paths, args.
                                                    view_size)), args.repeats,
        args.device)
    scores, decoded, _ = timed['project'].result
    project_s = timed['project'].seconds
    pure_s = timed['pure_forward'].seconds
    loop_s = timed['batch1_loop'].seconds

    num_images = len(img_paths)
    project_rate = num_images / project_s
    startup_s, project_rate_steady = pass_startup(
        project_s, timed['project_first_batch'].seconds, num_images,
        len(first_batch))
    pure_rate = num_images / pure_s
    loop_rate = len(loop_paths) / loop_s
    limit_rate = num_images / decode_inclusive_limit(
        pure_s, timed['decode'].seconds, args.num_workers, args.device)
    emit(
        dict(
            benchmark='labeling',
            model_name=args.model_name,
            device=args.device,
            view_size=args.view_size,
            image_size=args.image_size,
            num_images=num_images,
            num_classes=args.num_classes,
            batch_size=args.batch_size,
            num_workers=args.num_workers,
            project_images_per_s=project_rate,
            project_steady_images_per_s=project_rate_steady,
            pass_startup_s=startup_s,
            pure_forward_images_per_s=pure_rate,
            decode_images_per_s=num_images / timed['decode'].seconds,
            decode_inclusive_limit_images_per_s=limit_rate,
            batch1_loop_images_per_s=loop_rate,
            ratio_vs_pure_forward=project_rate_steady / pure_rate,
            ratio_vs_decode_inclusive_limit=project_rate_steady / limit_rate,
            speedup_vs_batch1_loop=project_rate_steady / loop_rate,
            # Forward and loop both run in this process: their CPU times
            # compare without the other jobs' interference (decode included
            # in the loop only).
            batch1_loop_vs_pure_forward_cpu=(timed['batch1_loop'].cpu_seconds /
                                             len(loop_paths)) /
            (timed['pure_forward'].cpu_seconds / num_images),
            all_decoded=bool(decoded.all()),
            max_abs_diff_vs_pure=float(
                (scores - timed['pure_forward'].result.cpu()).abs().max()),
            max_abs_diff_vs_loop=float(
                (scores[:len(loop_paths)] -
                 timed['batch1_loop'].result.cpu()).abs().max()),
            machine=machine()))


if __name__ == '__main__':
    main()
