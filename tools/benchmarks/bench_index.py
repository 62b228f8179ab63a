"""Pseudo-label table cost against the number of images: per-sample lookups
(``CLIPPseudoLabelDataset.__getitem__``: table rows, debias, blend) and a
full label update (``gather_rows`` of the pass's batches, ``write``), on
synthetic image ids. Per-operation times that stay flat as N grows mean the
total grows linearly; the released script's ``list.index`` lookup of an
image id is timed beside them (its per-lookup time grows with N, so a pass
is quadratic).

Prints one JSON line::

    python tools/benchmarks/bench_index.py --sizes 1000 10000 100000
"""
import argparse
import random
import time

import torch
from benchmark_setup import emit, log, machine
from mmengine.dataset import BaseDataset

from ccd_mm.datasets import CLIPPseudoLabelDataset
from ccd_mm.labeling.sharded_pass import gather_rows

# Images per batch of a labeling pass, as the hooks' default batch size.
PASS_BATCH = 32


class SyntheticImageList(BaseDataset):
    """``num_images`` image ids and no annotations; nothing is on disk."""

    def __init__(self, num_images: int, num_classes: int):
        self.num_images = num_images
        super().__init__(
            metainfo=dict(classes=[f'class {c}' for c in range(num_classes)]),
            pipeline=[])

    def load_data_list(self):
        return [
            dict(img_path=f'synthetic/{index:012d}.jpg')
            for index in range(self.num_images)
        ]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--sizes', type=int, nargs='+', default=[1000, 10000, 100000])
    parser.add_argument('--num-classes', type=int, default=80)
    parser.add_argument(
        '--lookups', type=int, default=2000, help='samples read per size')
    parser.add_argument(
        '--list-lookups',
        type=int,
        default=200,
        help='list.index lookups per size (slow at 100k)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def labeled_dataset(num_images: int, num_classes: int,
                    generator: torch.Generator) -> CLIPPseudoLabelDataset:
    """A wrapped synthetic split whose table is labeled and updated once."""
    dataset = CLIPPseudoLabelDataset(
        SyntheticImageList(num_images, num_classes))
    table = dataset.label_table
    table.write(
        'global_scores',
        torch.rand(num_images, num_classes,
                   generator=generator).softmax(dim=1))
    table.write('bias', torch.rand(num_classes, generator=generator))
    table.labeled.fill_(True)
    table.update_epoch.fill_(0)
    return dataset


def time_size(num_images: int, args, generator) -> dict:
    dataset = labeled_dataset(num_images, args.num_classes, generator)
    table = dataset.label_table
    rng = random.Random(args.seed)

    indices = [rng.randrange(num_images) for _ in range(args.lookups)]
    start = time.perf_counter()
    for index in indices:
        dataset[index]
    lookup_s = (time.perf_counter() - start) / len(indices)

    rows = torch.rand(num_images, args.num_classes, generator=generator)
    start = time.perf_counter()
    order = torch.arange(num_images)
    local = gather_rows(
        list(order.split(PASS_BATCH)), list(rows.split(PASS_BATCH)),
        num_images, args.num_classes)
    table.write('local_scores', local)
    table.update_epoch.fill_(1)
    update_s = (time.perf_counter() - start) / num_images

    image_ids = dataset.image_paths()
    queries = [
        image_ids[rng.randrange(num_images)] for _ in range(args.list_lookups)
    ]
    start = time.perf_counter()
    for query in queries:
        image_ids.index(query)
    list_index_s = (time.perf_counter() - start) / len(queries)

    return dict(
        lookup_us=lookup_s * 1e6,
        update_us_per_image=update_s * 1e6,
        list_index_lookup_us=list_index_s * 1e6,
        table_bytes=sum(t.nbytes for t in table.fields.values()),
        update_matches_rows=bool(torch.equal(table.local_scores, rows)))


def main(argv=None):
    args = parse_args(argv)
    generator = torch.Generator().manual_seed(args.seed)
    sizes = {}
    for num_images in args.sizes:
        log(f'{num_images} synthetic images x {args.num_classes} classes')
        sizes[str(num_images)] = time_size(num_images, args, generator)
    smallest, largest = sizes[str(min(args.sizes))], sizes[str(
        max(args.sizes))]
    emit(
        dict(
            benchmark='index',
            num_classes=args.num_classes,
            sizes=sizes,
            size_ratio=max(args.sizes) / min(args.sizes),
            lookup_growth=largest['lookup_us'] / smallest['lookup_us'],
            update_growth=largest['update_us_per_image'] /
            smallest['update_us_per_image'],
            list_index_growth=largest['list_index_lookup_us'] /
            smallest['list_index_lookup_us'],
            machine=machine()))


if __name__ == '__main__':
    main()
