"""Speed-up of sharded initial labeling: ``label_global_views`` launched
with torchrun on 1 and on 2 processes (gloo), each process one "device"
(one CPU thread, or one GPU), over the same images. Also checks that both
runs produce the same table.

The pass is timed inside the ranks between barriers (process start and
model loading excluded), best of ``--repeats``. Each rank also records the
share of a CPU it actually got during its pass (process CPU time / wall
time): on a machine shared with other jobs a rank may wait for its core,
and ``speedup_per_cpu_share`` is the speed-up with that waiting factored
out. Prints one JSON line::

    python tools/benchmarks/bench_sharded_labeling.py --num-images 256

On a machine with 2 GPUs, at the paper's size::

    python tools/benchmarks/bench_sharded_labeling.py --processes 2 \
        --model-name RN50x64-quickgelu --view-size 640 --image-size 640 \
        --num-images 512 --num-workers 4 --device cuda
"""
import argparse
import os
import socket
import subprocess
import sys
import time

import torch
import torch.distributed as torch_dist
from benchmark_setup import (add_common_arguments, build_teacher, emit, log,
                             machine, set_threads, teacher_kwargs, work_dir,
                             write_images)
from mmengine.dist import all_gather_object

from ccd_mm.labeling import label_global_views


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_common_arguments(parser, view_size=64, num_images=256)
    # One thread per rank (torchrun's own OMP_NUM_THREADS default).
    parser.set_defaults(num_workers=0, threads=1)
    parser.add_argument(
        '--processes',
        type=int,
        default=2,
        help='processes of the sharded run')
    parser.add_argument(
        '--rank-result',
        help=argparse.SUPPRESS)  # set on the ranks torchrun starts
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def image_paths(out_dir: str, num_images: int):
    image_dir = os.path.join(out_dir, 'images')
    return [
        os.path.join(image_dir, name)
        for name in sorted(os.listdir(image_dir))
    ][:num_images]


def run_rank(args) -> None:
    """One rank: label its shard ``--repeats`` times; rank 0 saves the
    fastest time and the gathered table."""
    torch_dist.init_process_group('gloo')
    set_threads(args)
    rank = torch_dist.get_rank()
    if args.device.startswith('cuda'):
        args.device = f'cuda:{os.environ.get("LOCAL_RANK", 0)}'
    teacher = build_teacher(args, args.work_dir)
    img_paths = image_paths(args.work_dir, args.num_images)
    label_global_views(teacher, img_paths[:args.batch_size * 2],
                       args.view_size, args.batch_size, args.num_workers)
    best, cpu_share = float('inf'), 0.0
    for _ in range(args.repeats):
        torch_dist.barrier()
        begin, begin_cpu = time.perf_counter(), time.process_time()
        scores, _, _ = label_global_views(teacher, img_paths, args.view_size,
                                          args.batch_size, args.num_workers)
        # CPU seconds this rank got per wall second of its own pass: below
        # 1 when other jobs on the machine took its core.
        share = (time.process_time() - begin_cpu) / (
            time.perf_counter() - begin)
        torch_dist.barrier()
        seconds = time.perf_counter() - begin
        if seconds < best:
            best, cpu_share = seconds, share
    shares = all_gather_object(cpu_share)
    if rank == 0:
        torch.save(
            dict(
                seconds=best,
                scores=scores,
                cpu_share=sum(shares) / len(shares)), args.rank_result)
    torch_dist.destroy_process_group()


def launch(args, processes: int, model: dict) -> dict:
    """Run the ranks with torchrun; their output goes to stderr."""
    result = os.path.join(args.work_dir, f'result_{processes}.pt')
    command = [
        sys.executable, '-m', 'torch.distributed.run',
        f'--nproc_per_node={processes}', f'--master_port={free_port()}',
        os.path.abspath(__file__), '--rank-result', result, '--work-dir',
        args.work_dir, '--model-name', model['model_name'], '--pretrained',
        model['pretrained'], '--num-classes',
        str(args.num_classes), '--view-size',
        str(args.view_size), '--num-images',
        str(args.num_images), '--batch-size',
        str(args.batch_size), '--num-workers',
        str(args.num_workers), '--repeats',
        str(args.repeats), '--device', args.device, '--threads',
        str(args.threads)
    ]
    if model['model_config'] is not None:
        command += ['--model-config', model['model_config']]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    subprocess.run(command, check=True, env=env, stdout=sys.stderr)
    return torch.load(result, weights_only=True)


def main(argv=None):
    args = parse_args(argv)
    if args.rank_result:
        run_rank(args)
        return
    args.work_dir = work_dir(args)
    write_images(args.work_dir, args.num_images, args.image_size, args.seed)
    model = teacher_kwargs(args, args.work_dir)
    log(f'labeling {args.num_images} images on 1 and {args.processes} '
        f'processes ({args.threads} thread(s) each)')
    single = launch(args, 1, model)
    sharded = launch(args, args.processes, model)
    emit(
        dict(
            benchmark='sharded_labeling',
            model_name=args.model_name,
            device=args.device,
            view_size=args.view_size,
            num_images=args.num_images,
            batch_size=args.batch_size,
            num_workers=args.num_workers,
            processes=args.processes,
            threads_per_process=args.threads,
            single_process_s=single['seconds'],
            sharded_s=sharded['seconds'],
            speedup=single['seconds'] / sharded['seconds'],
            cpu_share_single=single['cpu_share'],
            cpu_share_sharded=sharded['cpu_share'],
            speedup_per_cpu_share=single['seconds'] * single['cpu_share'] /
            (sharded['seconds'] * sharded['cpu_share']),
            max_abs_table_diff=float(
                (single['scores'] - sharded['scores']).abs().max()),
            machine=machine()))


if __name__ == '__main__':
    main()
