from typing import Optional

from mmengine.runner import Runner
from mmpretrain.registry import HOOKS, MODELS

from ccd_mm.core.aggregate import cdul_global_local
from ccd_mm.core.gradient_alignment import labels_to_latent
from ccd_mm.datasets.transforms import (INITIAL_LABELS_FIELD,
                                        LATENT_LOGITS_FIELD, LatentPseudoLabel)
from ccd_mm.labeling import (check_pass_arguments, label_global_views,
                             label_grid_snippets)
from ..pseudo_label_dataset_lookup import find_pseudo_label_dataset
from .clip_initial_label_hook import (CLIPInitialLabelHook,
                                      report_undecodable_images)


@HOOKS.register_module()
class CDULInitialLabelHook(CLIPInitialLabelHook):
    """Initial pseudo-labels of CDUL: global-local aggregation of CLIP
    scores (CDUL Sec. 3.1, Eq. 5-6, supplementary Sec. 6.1).

    Before the first epoch the teacher labels every training image's global
    view (``S_global``) and its ``grid x grid`` snippets (``S_local_j``);
    ``cdul_global_local`` aggregates them into ``S_final``, which initialises
    the latent label logits ``y~ = logit(S_final)`` (CDUL Sec. 3.2). The
    label table keeps ``S_global`` in ``global_scores``, ``S_final`` in
    ``initial_labels`` and the logits in ``latent_logits``, the fields of
    the dataset wrapper's target transform ``LatentPseudoLabel``.

    Checkpointing, resume and distributed labeling are those of
    :class:`CLIPInitialLabelHook`: the table travels in every checkpoint and
    a resumed run restores it instead of running the teacher.

    Args:
        teacher (dict, optional): Config of the teacher (``CLIPTeacher``)
            without class names and prompts, which come from the dataset
            wrapper. Defaults to None: the run config's top-level
            ``teacher``.
        view_size (int): Side of the square global view. Defaults to 448
            (the native input of CLIP RN50x64, which CDUL uses off the shelf).
        snippet_size (int): Longer side of a resized snippet (aspect kept).
            Defaults to 448.
        grid (int): Snippets per side. CDUL 4.1: 3 (9 snippets).
        zeta (float): Threshold on a class's best snippet score (Eq. 5); the
            paper reports values in [0, 0.4] and not the one of Table 1.
            Defaults to 0.2, the middle of that range.
        lam (float): Mix of global and aggregate scores, 0 = average
            (Sec. 3.1.3), 1 = maximum (Sec. 6.1, used for Table 1).
            Defaults to 1.0.
        size_divisor (int): Snippet sides are rounded to multiples of it so
            snippets batch by shape. Defaults to 32.
        batch_size (int): Images per loader batch and teacher forward of
            the global views; snippets go to the teacher in batches of its
            own ``batch_size``. Defaults to 32.
        num_workers (int): Workers that decode and crop. Defaults to 2.

    Notes:
        CDUL corrects no CLIP bias: the table's ``bias`` stays 1 and
        ``confident`` False.
    """

    def __init__(self,
                 teacher: Optional[dict] = None,
                 view_size: int = 448,
                 snippet_size: int = 448,
                 grid: int = 3,
                 zeta: float = 0.2,
                 lam: float = 1.0,
                 size_divisor: int = 32,
                 batch_size: int = 32,
                 num_workers: int = 2):
        super().__init__(
            teacher,
            view_size=view_size,
            batch_size=batch_size,
            num_workers=num_workers)
        if grid < 1:
            raise ValueError(f'grid must be >= 1, got {grid}')
        if not 0 <= lam <= 1:
            raise ValueError(f'lam must lie in [0, 1], got {lam}')
        if not 0 <= zeta <= 1:
            raise ValueError(f'zeta must lie in [0, 1], got {zeta}')
        check_pass_arguments(
            num_workers, snippet_size=snippet_size, size_divisor=size_divisor)
        self.snippet_size = snippet_size
        self.grid = grid
        self.zeta = zeta
        self.lam = lam
        self.size_divisor = size_divisor

    def before_train(self, runner: Runner) -> None:
        missing = set(LatentPseudoLabel.table_fields) - set(
            find_pseudo_label_dataset(runner).label_table.fields)
        if missing:
            raise KeyError(
                f'CDUL needs the label-table fields {sorted(missing)}: set '
                "target_transform=dict(type='LatentPseudoLabel') in "
                'CLIPPseudoLabelDataset')
        super().before_train(runner)

    def label(self, runner: Runner) -> None:
        """Run the teacher on every image and its snippets, fill the table."""
        dataset = find_pseudo_label_dataset(runner)
        table = dataset.label_table
        img_paths = dataset.image_paths()
        teacher = MODELS.build(dataset.teacher_config(self.teacher))
        runner.logger.info(
            f'CDUL initial labeling of {table.num_images} images '
            f'({self.view_size}px global view, {self.grid}x{self.grid} '
            f'snippets at {self.snippet_size}px)')
        global_scores, decoded, fingerprints = label_global_views(
            teacher,
            img_paths,
            self.view_size,
            self.batch_size,
            self.num_workers,
            show_progress=True,
            decoder=dataset.image_decoder)
        snippet_scores = label_grid_snippets(
            teacher,
            img_paths,
            self.grid,
            self.snippet_size,
            self.batch_size,
            self.num_workers,
            self.size_divisor,
            show_progress=True,
            decoder=dataset.image_decoder)
        del teacher
        initial = cdul_global_local(global_scores, snippet_scores, self.zeta,
                                    self.lam)
        table.write('global_scores', global_scores)
        table.write('valid', decoded)
        table.write(table.fingerprint_field, fingerprints)
        table.write(INITIAL_LABELS_FIELD, initial)
        table.write(LATENT_LOGITS_FIELD, labels_to_latent(initial))
        table.labeled.fill_(True)
        report_undecodable_images(runner, img_paths, decoded,
                                  dataset.image_decoder)
        runner.logger.info(
            f'CDUL initial labels (zeta {self.zeta}, lambda {self.lam}): '
            f'mean {float(initial[decoded].mean()):.3f}, '
            f'{float((initial[decoded] >= 0.5).float().sum(1).mean()):.2f} '
            'classes >= 0.5 per image')
