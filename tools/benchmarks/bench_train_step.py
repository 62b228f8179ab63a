"""Training-step time of CCD over a plain mmpretrain multi-label BCE step
(one view, ``MultiLabelLinearClsHead``) on the same ResNet.

The CCD step is ``TwoViewClassifier`` + ``TwoViewDataPreprocessor`` +
``CCDConsistencyHead`` on batches holding a weak and a strong view of every
image, timed in both phases: during warm-up (consistency off: the weak views
alone are forwarded, about 1x the plain step) and after it (consistency on:
the strong views in a second forward, about 2x).

Prints one JSON line. CPU, tiny ResNet (default)::

    python tools/benchmarks/bench_train_step.py

GPU at the paper's size (ResNet-101 at 448, batch 16, mixed precision)::

    python tools/benchmarks/bench_train_step.py --classifier-depth 101 \
        --classifier-width 64 --image-size 448 --batch-size 16 --amp
"""
import argparse

import torch
from benchmark_setup import (add_classifier_arguments, add_threads_argument,
                             best_times, classifier_config, emit, log, machine,
                             set_threads)
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import ccd_mm  # noqa: F401  (registers the CCD head and preprocessor)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_classifier_arguments(parser, depth=18, width=16)
    parser.add_argument('--num-classes', type=int, default=20)
    parser.add_argument('--image-size', type=int, default=64)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument(
        '--steps',
        type=int,
        default=5,
        help='training steps per timed repetition')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument(
        '--amp',
        action='store_true',
        help='AmpOptimWrapper, as tools/train.py --amp')
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    add_threads_argument(parser)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def build_step(args,
               model_cfg: dict,
               num_views: int,
               consistency: bool = False):
    """A closure running ``--steps`` training steps of the model."""
    torch.manual_seed(args.seed)
    model = MODELS.build(model_cfg).to(args.device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    wrapper = (
        AmpOptimWrapper(optimizer=optimizer, loss_scale='dynamic')
        if args.amp else OptimWrapper(optimizer=optimizer))
    shape = (args.batch_size, 3, args.image_size, args.image_size)
    views = [
        torch.randint(0, 256, shape, dtype=torch.uint8)
        for _ in range(num_views)
    ]
    targets = torch.rand(args.batch_size, args.num_classes)
    data = dict(
        # default_collate's layout: one (N, 3, H, W) tensor per view.
        inputs=views if num_views > 1 else views[0],
        data_samples=[DataSample().set_gt_score(t) for t in targets])
    if consistency:
        model.head.consistency_active = True

    def run():
        for _ in range(args.steps):
            losses = model.train_step(data, wrapper)
        return float(losses['loss'].detach())

    run()  # warm-up
    return run


def main(argv=None):
    args = parse_args(argv)
    set_threads(args)
    ccd = classifier_config(
        args,
        head=dict(type='CCDConsistencyHead'),
        data_preprocessor=dict(type='TwoViewDataPreprocessor'),
        classifier='TwoViewClassifier')
    plain = classifier_config(
        args,
        head=dict(type='MultiLabelLinearClsHead'),
        data_preprocessor=dict(type='ClsDataPreprocessor'),
        neck=dict(type='GlobalAveragePooling'))
    log(f'training steps of ResNet-{args.classifier_depth} at '
        f'{args.image_size} px, batch {args.batch_size}, on {args.device}')
    timed = best_times(
        dict(
            ccd=build_step(args, ccd, 2, consistency=True),
            warmup=build_step(args, ccd, 2),
            plain=build_step(args, plain, 1)), args.repeats, args.device)
    ccd_s, ccd_loss = timed['ccd'].seconds, timed['ccd'].result
    warmup_s = timed['warmup'].seconds
    plain_s, plain_loss = timed['plain'].seconds, timed['plain'].result
    emit(
        dict(
            benchmark='train_step',
            classifier=f'ResNet-{args.classifier_depth} '
            f'width {args.classifier_width}',
            device=args.device,
            amp=args.amp,
            image_size=args.image_size,
            batch_size=args.batch_size,
            num_classes=args.num_classes,
            ccd_step_s=ccd_s / args.steps,
            warmup_step_s=warmup_s / args.steps,
            plain_step_s=plain_s / args.steps,
            ratio_ccd_vs_plain=ccd_s / plain_s,
            ratio_ccd_vs_plain_cpu=timed['ccd'].cpu_seconds /
            timed['plain'].cpu_seconds,
            ratio_warmup_vs_plain=warmup_s / plain_s,
            ratio_warmup_vs_plain_cpu=timed['warmup'].cpu_seconds /
            timed['plain'].cpu_seconds,
            ccd_loss=ccd_loss,
            plain_loss=plain_loss,
            machine=machine()))


if __name__ == '__main__':
    main()
