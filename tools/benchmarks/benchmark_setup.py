"""What the benchmarks share: their common flags, the CLIP teacher (a tiny
random one by default), generated images, timing and the one-line JSON
report.

Every benchmark prints exactly one JSON line on stdout; logs go to stderr.
"""
import argparse
import atexit
import json
import os
import shutil
import sys
import tempfile
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

import numpy as np
import open_clip
import torch
from PIL import Image

from ccd_mm.teachers import CLIPTeacher

# A ModifiedResNet CLIP small enough for 2 CPU cores (the shape of the test
# suite's tiny teacher), built with random weights. Timing does not depend on
# the weights, so the paper's teacher is benchmarked the same way
# (--model-name RN50x64-quickgelu --pretrained random).
TINY_CLIP_NAME = 'bench-tiny-RN'
TINY_CLIP_CONFIG = dict(
    embed_dim=32,
    vision_cfg=dict(
        image_size=64,
        layers=[1, 1, 1, 1],
        width=8,
        head_width=64,
        patch_size=None),
    text_cfg=dict(
        context_length=16, vocab_size=49408, width=32, heads=2, layers=2))
RANDOM_WEIGHTS = 'random'

# Aspect ratios (width / height) of the generated images, COCO-like.
IMAGE_ASPECTS = (4 / 3, 3 / 4, 1.0, 16 / 9)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def emit(result: dict) -> None:
    """The benchmark's result: one JSON line, the only stdout output."""
    print(json.dumps(result, sort_keys=True), flush=True)


def add_common_arguments(parser: argparse.ArgumentParser, view_size: int,
                         num_images: int) -> None:
    """Flags every benchmark takes: teacher, sizes, batching, device."""
    parser.add_argument(
        '--model-name',
        default=TINY_CLIP_NAME,
        help='open_clip model name of the teacher, e.g. RN50x64-quickgelu')
    parser.add_argument(
        '--model-config',
        help='open_clip model-config JSON for --model-name (the built-in '
        'tiny config is written when --model-name is the default)')
    parser.add_argument(
        '--pretrained',
        default=RANDOM_WEIGHTS,
        help=f'teacher weight file, cached open_clip tag, or '
        f'"{RANDOM_WEIGHTS}" (random weights, written to the work dir)')
    parser.add_argument('--num-classes', type=int, default=10)
    parser.add_argument(
        '--view-size',
        type=int,
        default=view_size,
        help='side of the square labeling view (paper: 640)')
    parser.add_argument(
        '--image-size',
        type=int,
        default=2 * view_size,
        help='longer side of the generated images')
    parser.add_argument('--num-images', type=int, default=num_images)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument(
        '--repeats',
        type=int,
        default=3,
        help='timed repetitions; the fastest is reported (shared machines)')
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    add_threads_argument(parser)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--work-dir', help='where images and weights go (default: a temp dir)')


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--threads',
        type=int,
        help='torch intra-op threads (default: torch\'s). 1 gives clean CPU '
        'times on a shared machine: idle OpenMP threads spin while they wait '
        'for a descheduled peer, and that spinning counts as CPU time')


def set_threads(args: argparse.Namespace) -> None:
    if args.threads is not None:
        torch.set_num_threads(args.threads)


def add_classifier_arguments(parser: argparse.ArgumentParser, depth: int,
                             width: int) -> None:
    """Flags of the mmpretrain ResNet classifier (paper: depth 101, width
    64, last stride 2)."""
    parser.add_argument('--classifier-depth', type=int, default=depth)
    parser.add_argument(
        '--classifier-width',
        type=int,
        default=width,
        help='base channels of the ResNet (64 is the standard ResNet)')
    parser.add_argument('--classifier-last-stride', type=int, default=2)


def classifier_config(args: argparse.Namespace,
                      head: dict,
                      data_preprocessor: dict,
                      neck: Optional[dict] = None,
                      classifier: str = 'ImageClassifier') -> dict:
    """A ``classifier`` (an mmpretrain ``ImageClassifier`` by default) on
    the ResNet the flags describe, trained from scratch (timing does not
    depend on the weights)."""
    width = args.classifier_width
    expansion = 1 if args.classifier_depth in (18, 34) else 4
    return dict(
        type=classifier,
        backbone=dict(
            type='ResNet',
            depth=args.classifier_depth,
            stem_channels=width,
            base_channels=width,
            strides=(1, 2, 2, args.classifier_last_stride)),
        neck=neck,
        head=dict(
            head,
            num_classes=args.num_classes,
            in_channels=width * 8 * expansion),
        data_preprocessor=dict(
            data_preprocessor,
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            to_rgb=True))


def work_dir(args: argparse.Namespace) -> str:
    """``--work-dir``, or a temp dir removed when the benchmark exits (it
    holds the generated images and, at the paper's size, 2.5 GB of random
    teacher weights)."""
    if args.work_dir:
        os.makedirs(args.work_dir, exist_ok=True)
        return args.work_dir
    path = tempfile.mkdtemp(prefix='ccd_bench_')
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def teacher_kwargs(args: argparse.Namespace, out_dir: str) -> dict:
    """``CLIPTeacher`` model arguments (name, config, weight file), writing
    the tiny config and random weights to ``out_dir`` when asked for."""
    model_config = args.model_config
    if model_config is None and args.model_name == TINY_CLIP_NAME:
        model_config = os.path.join(out_dir, f'{TINY_CLIP_NAME}.json')
        with open(model_config, 'w') as file:
            json.dump(TINY_CLIP_CONFIG, file)
    if model_config is not None:
        open_clip.add_model_config(model_config)
    pretrained = args.pretrained
    if pretrained == RANDOM_WEIGHTS:
        pretrained = os.path.join(out_dir, f'{args.model_name}-random.pt')
        if not os.path.isfile(pretrained):
            with torch.random.fork_rng():
                torch.manual_seed(args.seed)
                model = open_clip.create_model(args.model_name)
            torch.save(model.state_dict(), pretrained)
            del model
    return dict(
        model_name=args.model_name,
        model_config=model_config,
        pretrained=pretrained)


def build_teacher(args: argparse.Namespace, out_dir: str) -> CLIPTeacher:
    return CLIPTeacher(
        **teacher_kwargs(args, out_dir),
        class_names=[f'object {c}' for c in range(args.num_classes)],
        batch_size=args.batch_size,
        device=args.device)


def write_images(out_dir: str, num_images: int, longer_side: int,
                 seed: int) -> List[str]:
    """Smooth random JPEGs of COCO-like aspect ratios (decoding cost of a
    photo of that size, not of noise)."""
    image_dir = os.path.join(out_dir, 'images')
    os.makedirs(image_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(num_images):
        aspect = IMAGE_ASPECTS[index % len(IMAGE_ASPECTS)]
        width, height = ((longer_side,
                          round(longer_side / aspect)) if aspect >= 1 else
                         (round(longer_side * aspect), longer_side))
        coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        path = os.path.join(image_dir, f'{index:06d}.jpg')
        Image.fromarray(coarse).resize((width, height), Image.BILINEAR).save(
            path, quality=90)
        paths.append(path)
    return paths


def images_and_teacher(
        args: argparse.Namespace) -> Tuple[List[str], CLIPTeacher]:
    """The generated images and the teacher of a run, in its work dir."""
    out_dir = work_dir(args)
    img_paths = write_images(out_dir, args.num_images, args.image_size,
                             args.seed)
    return img_paths, build_teacher(args, out_dir)


def synchronize(device: str) -> None:
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


class Timing(NamedTuple):
    """Fastest wall time and fastest CPU time of a benchmarked call, and
    the result of its last run."""
    seconds: float
    cpu_seconds: float
    result: object


def best_times(runs: Dict[str, Callable[[], object]],
               repeats: int,
               device: str = 'cpu') -> Dict[str, Timing]:
    """Time every callable ``repeats`` times, round by round: each round
    runs every callable once, so on a machine shared with other jobs the
    compared runs see the same load. The fastest run counts. CPU time (this
    process, all its threads; not DataLoader workers) is what a call costs
    whoever else runs on the machine; wall time is what a user waits."""
    seconds = {name: float('inf') for name in runs}
    cpu_seconds = dict(seconds)
    results = {}
    for _ in range(max(1, repeats)):
        for name, run in runs.items():
            synchronize(device)
            start, start_cpu = time.perf_counter(), time.process_time()
            results[name] = run()
            synchronize(device)
            seconds[name] = min(seconds[name], time.perf_counter() - start)
            cpu_seconds[name] = min(cpu_seconds[name],
                                    time.process_time() - start_cpu)
    return {
        name: Timing(seconds[name], cpu_seconds[name], results[name])
        for name in runs
    }


def pass_startup(pass_s: float, first_batch_s: float, num_images: int,
                 first_batch_images: int) -> Tuple[float, float]:
    """(fixed cost of a labeling pass, its images/s once running).

    A pass forks its DataLoader workers and waits for their first batch
    before any forward: a constant per pass, a fraction of a second that a
    COCO pass (82k images) does not notice but a benchmark of a few hundred
    images would mistake for slowness. Timing the pass over all images and
    over its first batch alone separates the two."""
    if num_images <= first_batch_images:
        return first_batch_s, num_images / pass_s
    steady_s = max(pass_s - first_batch_s, 1e-9)
    startup_s = max(
        first_batch_s - steady_s * first_batch_images /
        (num_images - first_batch_images), 0.0)
    return startup_s, (num_images - first_batch_images) / steady_s


def decode_inclusive_limit(forward_s: float, decode_s: float, num_workers: int,
                           device: str) -> float:
    """Fewest seconds a labeling pass can take given its pure forward time
    and its single-process decode time. Without workers the main process
    decodes between forwards. On a GPU, workers decode while the GPU
    computes. On the CPU the forward's threads and the workers also share
    the cores, so their work adds up over ``cpu_count`` cores."""
    if num_workers == 0:
        return forward_s + decode_s
    bound = max(forward_s, decode_s / num_workers)
    if str(device).startswith('cuda'):
        return bound
    shared = (forward_s * torch.get_num_threads() + decode_s) / (
        os.cpu_count() or 1)
    return max(bound, shared)


def machine() -> dict:
    """What the figures were measured on."""
    info = dict(
        cpu_count=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        load_average=[round(load, 2) for load in os.getloadavg()])
    if torch.cuda.is_available():
        info['gpu'] = torch.cuda.get_device_name()
    return info
