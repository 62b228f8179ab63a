import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner, find_latest_checkpoint
from mmpretrain.registry import HOOKS, MODELS
from mmpretrain.utils import get_ori_model

from ccd_mm.datasets import PseudoLabelTable, TableMismatchError
from ccd_mm.datasets.image_decoder import ImageDecoder
from ccd_mm.labeling import (check_pass_arguments, initial_label_fields,
                             label_global_views)
from ccd_mm.labeling.file_fingerprints import file_fingerprints
from ccd_mm.labeling.label_cache import (check_label_fields, label_provenance,
                                         read_cached_scores)
from ..pseudo_label_dataset_lookup import find_pseudo_label_dataset
from ..run_setup_checks import check_classifier_classes, warn_of_earlier_run
from ..teacher_config import resolve_teacher_config

# Written to the work dir: every training image the teacher could not decode,
# one a line, its path and why, tab-separated.
UNDECODABLE_IMAGES_FILE = 'undecodable_images.txt'


def report_undecodable_images(runner: Runner, img_paths: Sequence[str],
                              decoded: torch.Tensor,
                              decoder: ImageDecoder) -> None:
    """Name the training images that could not be decoded, and are
    therefore never served: a few in the log, all of them with the reason
    in ``UNDECODABLE_IMAGES_FILE`` in the work dir."""
    skipped = [img_paths[i] for i in torch.nonzero(~decoded).flatten()]
    if not skipped:
        return
    # The pass's workers return only a flag, and a label cache holds only
    # the flag: the decoder is asked again, for these images only.
    reasons = [
        decoder.failure(path)
        or 'failed in the labeling pass but decodes now (changed since?)'
        for path in skipped
    ]
    listing = osp.join(runner.work_dir, UNDECODABLE_IMAGES_FILE)
    if is_main_process():
        with open(listing, 'w') as file:
            file.writelines(f'{path}\t{reason}\n'
                            for path, reason in zip(skipped, reasons))
    examples = '; '.join(f'{path} ({reason})'
                         for path, reason in zip(skipped[:3], reasons))
    runner.logger.warning(
        f'{len(skipped)} of {len(img_paths)} training images could not be '
        f'decoded and are skipped, e.g. {examples}; all are listed with the '
        f'reason in {listing}')


@HOOKS.register_module()
class CLIPInitialLabelHook(Hook):
    """Label every training image with the frozen CLIP teacher before the
    first epoch, and estimate CLIP's class bias (CCD 3.1, 3.3).

    The teacher's probabilities of each image's global view go into the
    label table of ``CLIPPseudoLabelDataset``; an image is confident when the
    entropy of its probabilities is at most ``entropy_threshold`` (tau_H),
    and the bias b_c is the mean top-1 probability of the confident images
    whose top-1 class is c. Classes that are never a confident top-1 keep
    b_c = 1 (no correction; the released script divides 0 by 0 there) and are
    logged. Images are decoded by the training pipeline's
    ``LoadImageFromFile``, so the teacher sees the classifier's pixels;
    those that cannot be decoded (or whose header declares more
    pixels than the dataset's ``max_image_pixels``) are named in the log
    and, with the reason, in ``undecodable_images.txt`` in the work dir,
    and never served.

    Before the pass it checks what would fail only after it: the
    classifier's head must predict the split's number of classes. A run
    that starts afresh in a work dir holding another run's checkpoints or
    CAM records warns and names them.

    The table is saved in every checkpoint and restored on resume (or
    ``load_from`` of a checkpoint of the same image list), so the teacher
    does not run again. A table saved for the same images under another
    folder (the data directory moved) is restored, and the log says so.
    Before it is restored, every image file is read once more and its
    fingerprint compared with the one the table was labeled from: the same
    relative names with other bytes (another split or seed) are another
    image list. A resumed run whose checkpoint holds no table, or one of
    another image list, stops with an error before the first iteration:
    its schedule's label updates before the resumed epoch cannot be redone.
    ``load_from`` (no resume) of such a checkpoint keeps its weights only,
    and the teacher labels this split. A table whose values no labeling
    pass gives (``check_label_fields``: NaN rows, a bias of 0) is refused
    in both cases, naming the checkpoint and the field. A table saved
    before tables had fingerprints is restored with a warning that its
    images could not be checked: refusing it would leave such a run no way
    to resume, and its image list is still checked; the table takes the
    current fingerprints, so its later checkpoints are checked.

    With ``label_cache`` set, the teacher's scores are read from that file
    (written by ``tools/make_pseudo_labels.py``) instead: the cache's
    provenance (teacher, weight-file hash, prompts, templates, view size,
    normalisation, image list) must match this run, or it is refused with
    the differing field named. The bias and confident flags are recomputed
    from the cached scores with this hook's ``entropy_threshold``.

    Args:
        teacher (dict, optional): Config of the teacher (``CLIPTeacher``)
            without class names and prompts, which come from the dataset
            wrapper. Defaults to None: the run config's top-level
            ``teacher``.
        view_size (int): Side of the square global view. Paper: 640.
        entropy_threshold (float): tau_H. Paper 0.5, released script 2.0.
        batch_size (int): Images per teacher forward. Defaults to 32.
        num_workers (int): Workers that decode and resize. Defaults to 2.
        label_cache (str, optional): A label cache file to read the
            teacher's scores from instead of running the teacher.
            Defaults to None.
        dense_fusion (bool): Label each image with the mean of its global
            scores and the per-class max of its dense scores (one
            location per 32 px of a ModifiedResNet, per patch of a ViT;
            MaskCLIP's value path), renormalised (TagCLIP's local-to-global
            reading, :func:`~ccd_mm.core.aggregate.fuse_global_and_dense`),
            instead of the global scores alone. Not with ``label_cache``.
            Defaults to False.
    """

    priority = 'VERY_HIGH'

    def __init__(self,
                 teacher: Optional[dict] = None,
                 view_size: int = 640,
                 entropy_threshold: float = 0.5,
                 batch_size: int = 32,
                 num_workers: int = 2,
                 label_cache: Optional[str] = None,
                 dense_fusion: bool = False):
        if entropy_threshold < 0:
            raise ValueError('entropy_threshold must be >= 0')
        if dense_fusion and label_cache is not None:
            raise ValueError(
                'dense_fusion needs the teacher\'s dense scores, which a '
                'label cache (global-view scores) does not hold: set one of '
                'dense_fusion and label_cache')
        check_pass_arguments(
            num_workers, view_size=view_size, batch_size=batch_size)
        self.teacher = teacher
        self.view_size = view_size
        self.entropy_threshold = entropy_threshold
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.label_cache = label_cache
        self.dense_fusion = dense_fusion
        self._saved_table: Optional[dict] = None
        self._saved_table_source: Optional[str] = None

    def before_run(self, runner: Runner) -> None:
        self.teacher = resolve_teacher_config(self.teacher, runner.cfg)

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        # The training loader may not be built yet here: keep the state and
        # restore it in before_train.
        self._saved_table = PseudoLabelTable.saved_state(checkpoint)
        # mmengine passes the checkpoint, not its path: that of load_from,
        # else the latest one, which auto-resume loads.
        path = runner.cfg.get('load_from') or find_latest_checkpoint(
            runner.work_dir)
        self._saved_table_source = f'checkpoint {path}'

    def before_train(self, runner: Runner) -> None:
        dataset = find_pseudo_label_dataset(runner)
        check_classifier_classes(get_ori_model(runner.model), dataset)
        if runner.iter == 0:  # not resumed
            warn_of_earlier_run(runner)
        saved, self._saved_table = self._saved_table, None
        if saved is not None and self._restore(runner, dataset, saved):
            return
        if runner.iter > 0:
            raise RuntimeError(
                f'Cannot resume at iteration {runner.iter}: the checkpoint '
                'holds no pseudo-label table, and labeling again would skip '
                'the label updates of the epochs before it. Resume from a '
                'checkpoint of this method, or start a new run with '
                '`load_from` (no resume) to keep its weights only.')
        if not bool(dataset.label_table.labeled):
            self.label(runner)

    def _restore(self, runner: Runner, dataset, saved: dict) -> bool:
        """Restore a saved table; False if it is not this run's and the
        run starts from scratch.

        Raises:
            ValueError: the table holds values no labeling pass gives.
            RuntimeError: a resumed run's table is not this run's.
        """
        table = dataset.label_table
        source = self._saved_table_source
        check_label_fields(saved['fields'],
                           f'the pseudo-label table of {source}')
        old_root = table.moved_root(saved)
        try:
            table.check_image_list(saved)
            fingerprints = file_fingerprints(dataset.image_paths(),
                                             dataset.image_decoder,
                                             self.batch_size, self.num_workers)
            checked = table.check_contents(saved, fingerprints, source)
            table.load_state_dict(saved)
        except TableMismatchError as error:
            if runner.iter == 0:
                runner.logger.warning(
                    f'Not restoring the checkpoint\'s table: {error}')
                return False
            raise RuntimeError(
                f'Cannot resume at iteration {runner.iter}: {error}. The '
                'run would go on with labels its schedule did not produce. '
                'Point the dataset at the images the checkpoint was trained '
                'on (the same paths relative to the data folder, the same '
                'files), or start a new run with `load_from` (no resume) to '
                'keep its weights only.') from error
        table.write(PseudoLabelTable.fingerprint_field, fingerprints)
        if not checked:
            runner.logger.warning(
                f'The pseudo-label table of {source} was saved before tables '
                'recorded the fingerprints of their image files: restored '
                'without checking that the files under '
                f'{table.image_root} hold the images it was labeled from. '
                'Checkpoints saved from now on record them.')
        moved = (f'; its images were under {old_root}, now under '
                 f'{table.image_root} (the same relative paths)'
                 if old_root is not None else '')
        runner.logger.info('Pseudo-label table restored from the checkpoint '
                           f'(teacher not run){moved}')
        return True

    def label(self, runner: Runner) -> None:
        """Fill the table with the initial labels of the training split."""
        dataset = find_pseudo_label_dataset(runner)
        table = dataset.label_table
        source = (f'scores read from {self.label_cache}'
                  if self.label_cache is not None else 'teacher run')
        runner.logger.info(
            f'CLIP initial labeling of {table.num_images} images '
            f'({self.view_size}px global view'
            f'{" fused with its dense scores" if self.dense_fusion else ""}'
            f', {source})')
        fields, has_estimate = self.initial_labels(dataset)
        for name, value in fields.items():
            table.write(name, value)
        table.labeled.fill_(True)
        report_undecodable_images(runner, dataset.image_paths(), table.valid,
                                  dataset.image_decoder)
        self._log_labeling(runner, table, has_estimate,
                           dataset.metainfo['classes'])

    def initial_labels(
            self, dataset) -> Tuple[Dict[str, torch.Tensor], torch.Tensor]:
        """Table fields of a ``CLIPPseudoLabelDataset``'s initial labels,
        from the label cache if one is set, else from the teacher; see
        :func:`~ccd_mm.labeling.initial_label_fields`, and the files'
        fingerprints."""
        teacher_cfg = dataset.teacher_config(self.teacher)
        img_paths = dataset.image_paths()
        if self.label_cache is not None:
            scores, decoded = read_cached_scores(
                self.label_cache,
                label_provenance(teacher_cfg, self.view_size, img_paths))
            # No decode pass ran to fingerprint the files: read them.
            fingerprints = file_fingerprints(img_paths, dataset.image_decoder,
                                             self.batch_size, self.num_workers)
        else:
            teacher = MODELS.build(teacher_cfg)
            scores, decoded, fingerprints = label_global_views(
                teacher,
                img_paths,
                self.view_size,
                self.batch_size,
                self.num_workers,
                show_progress=True,
                decoder=dataset.image_decoder,
                dense_fusion=self.dense_fusion)
            del teacher
        fields, has_estimate = initial_label_fields(scores, decoded,
                                                    self.entropy_threshold)
        fields[PseudoLabelTable.fingerprint_field] = fingerprints
        return fields, has_estimate

    def _log_labeling(self, runner: Runner, table, has_estimate,
                      classes) -> None:
        runner.logger.info(
            f'{int(table.confident.sum())}/{table.num_images} images are '
            f'confident (entropy <= {self.entropy_threshold}); class bias '
            f'min {float(table.bias.min()):.3f} max '
            f'{float(table.bias.max()):.3f}')
        missing = [classes[c] for c in torch.nonzero(~has_estimate).flatten()]
        if missing:
            runner.logger.warning(
                f'No confident top-1 image for {len(missing)} classes, bias '
                f'set to 1 (no correction): {", ".join(missing)}')

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        find_pseudo_label_dataset(runner).label_table.save_to(checkpoint)
