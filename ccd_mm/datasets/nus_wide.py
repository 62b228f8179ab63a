from typing import List, Optional, Union

from mmengine.fileio import join_path, list_from_file
from mmengine.logging import MMLogger
from mmpretrain.datasets import MultiLabelDataset
from mmpretrain.registry import DATASETS

from .image_files import drop_missing_images

# The 81 concepts of NUS-WIDE in the order of ``Concepts81.txt``.
NUS_WIDE_CONCEPTS = (
    'airport', 'animal', 'beach', 'bear', 'birds', 'boats', 'book', 'bridge',
    'buildings', 'cars', 'castle', 'cat', 'cityscape', 'clouds', 'computer',
    'coral', 'cow', 'dancing', 'dog', 'earthquake', 'elk', 'fire', 'fish',
    'flags', 'flowers', 'food', 'fox', 'frost', 'garden', 'glacier', 'grass',
    'harbor', 'horses', 'house', 'lake', 'leaf', 'map', 'military', 'moon',
    'mountain', 'nighttime', 'ocean', 'person', 'plane', 'plants', 'police',
    'protest', 'railroad', 'rainbow', 'reflection', 'road', 'rocks', 'running',
    'sand', 'sign', 'sky', 'snow', 'soccer', 'sports',
    'statue', 'street', 'sun', 'sunset', 'surf', 'swimmers', 'tattoo',
    'temple', 'tiger', 'tower', 'town', 'toy', 'train', 'tree', 'valley',
    'vehicle', 'water', 'waterfall', 'wedding', 'whales', 'window', 'zebra')


@DATASETS.register_module()
class NUSWIDE(MultiLabelDataset):
    """NUS-WIDE with its 81 concepts and official train/test split.

    Reads the files of the official distribution (ImageList.zip,
    ConceptsList.zip, Groundtruth.zip, and the Flickr images)::

        nus_wide
        ├── Flickr
        │   ├── actor
        │   │   ├── 0001_2124494179.jpg
        │   │   └── ...
        │   └── ...
        ├── ImageList
        │   ├── TrainImagelist.txt      161,789 lines
        │   └── TestImagelist.txt       107,859 lines
        ├── ConceptsList
        │   └── Concepts81.txt          one concept name per line
        └── Groundtruth
            └── TrainTestLabels
                ├── Labels_airport_Train.txt   one 0/1 per line, aligned
                ├── Labels_airport_Test.txt    with the split's image list
                └── ...                        (81 concepts x 2 splits)

    Image-list lines look like ``actor\\0001_2124494179.jpg``; ``\\`` or
    ``/`` separators and a longer prefix (as in ``Imagelist.txt``:
    ``C:\\ImageData\\Flickr\\actor\\...``) are accepted, and the last
    two components (``<dir>/<file>``) are looked up under ``data_prefix``.

    Config: ``dict(type='NUSWIDE', data_root='data/nus_wide',
    split='train')``; the evaluation split is ``split='test'``.

    Args:
        data_root (str): The ``nus_wide`` directory above.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        ann_file (str): Image list of the split, relative to ``data_root``.
            Defaults to ``''``: ``ImageList/{Train,Test}Imagelist.txt``.
        data_prefix (str | dict): Image directory, relative to
            ``data_root``. Defaults to ``dict(img_path='Flickr')``.
        label_dir (str): Directory of ``Labels_<concept>_{Train,Test}.txt``,
            relative to ``data_root``. Defaults to
            ``'Groundtruth/TrainTestLabels'``.
        concept_file (str, optional): ``Concepts81.txt``, relative to
            ``data_root``; every class must be listed in it. None skips the
            check. Defaults to ``'ConceptsList/Concepts81.txt'``.
        keep_unlabeled (bool): Whether images carrying none of the classes
            are kept, with an all-negative label. Defaults to True: the CCD
            paper's NUS-WIDE includes such "none images" (CCD
            supplementary, discussion of Fig. 9). Their number is logged
            either way.
        test_mode (bool): Passed to :class:`MultiLabelDataset`.
            Defaults to False.
        metainfo (dict, optional): Overrides ``METAINFO``; ``classes`` may be
            any subset of the 81 concepts. Defaults to None.
        **kwargs: Other arguments of :class:`MultiLabelDataset`
            (``pipeline``, ``lazy_init``, ...).

    Notes:
        A label file whose length differs from the image list, or a value
        other than 0/1, raises ``ValueError`` at construction.

        Image files are checked when the data list is loaded: missing ones
        (many Flickr URLs are dead, so downloads differ) are dropped, counted
        and logged with a few example paths; if none exists,
        ``FileNotFoundError`` is raised. The counts are kept in
        ``image_counts`` (``listed``, ``unlabeled``, ``missing_file``,
        ``loaded``). Images are not decoded here: corrupt files are found by
        the labeling pass, before training.
    """

    METAINFO = {'classes': NUS_WIDE_CONCEPTS}
    SPLITS = ('train', 'test')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_file: str = '',
                 data_prefix: Union[str, dict, None] = None,
                 label_dir: str = 'Groundtruth/TrainTestLabels',
                 concept_file: Optional[str] = 'ConceptsList/Concepts81.txt',
                 keep_unlabeled: bool = True,
                 test_mode: bool = False,
                 metainfo: Optional[dict] = None,
                 **kwargs):
        if split not in self.SPLITS:
            raise ValueError(
                f'split must be one of {self.SPLITS}, got {split!r}')
        self.split = split
        self.label_dir = join_path(data_root, label_dir)
        self.concept_file = (
            join_path(data_root, concept_file) if concept_file else None)
        self.keep_unlabeled = keep_unlabeled
        self.image_counts = dict()
        split_name = split.capitalize()
        super().__init__(
            ann_file=ann_file or f'ImageList/{split_name}Imagelist.txt',
            data_root=data_root,
            data_prefix=data_prefix or dict(img_path='Flickr'),
            test_mode=test_mode,
            metainfo=metainfo,
            **kwargs)

    def _read_concept_labels(self, concept: str, num_images: int) -> list:
        """Read one concept's 0/1 column for the split."""
        path = join_path(self.label_dir,
                         f'Labels_{concept}_{self.split.capitalize()}.txt')
        values = [line.strip() for line in list_from_file(path)]
        values = [value for value in values if value]
        if len(values) != num_images:
            raise ValueError(f'{path} has {len(values)} labels but '
                             f'{self.ann_file} lists {num_images} images')
        if not set(values) <= {'0', '1'}:
            raise ValueError(f'{path} holds values other than 0/1: '
                             f'{sorted(set(values) - {"0", "1"})[:5]}')
        return [value == '1' for value in values]

    def load_data_list(self) -> List[dict]:
        """Read the image list and label columns, then drop missing files."""
        logger = MMLogger.get_current_instance()
        if self.concept_file is not None:
            concepts = {c.strip() for c in list_from_file(self.concept_file)}
            absent = [c for c in self.CLASSES if c not in concepts]
            if absent:
                raise ValueError(
                    f'classes {absent} are not in {self.concept_file}')

        entries = [line.strip() for line in list_from_file(self.ann_file)]
        entries = [entry for entry in entries if entry]
        if not entries:
            raise ValueError(f'{self.ann_file} lists no images')
        columns = [
            self._read_concept_labels(concept, len(entries))
            for concept in self.CLASSES
        ]

        data_list, unlabeled = [], 0
        for row, entry in enumerate(entries):
            gt_label = [c for c, column in enumerate(columns) if column[row]]
            if not gt_label:
                unlabeled += 1
                if not self.keep_unlabeled:
                    continue
            # The official lists are Windows paths; keep '<dir>/<file>'.
            relative = '/'.join(entry.replace('\\', '/').split('/')[-2:])
            data_list.append(
                dict(
                    img_path=join_path(self.img_prefix, relative),
                    gt_label=gt_label))

        action = 'kept as all-negative' if self.keep_unlabeled else 'dropped'
        logger.info(f'NUSWIDE({self.split}): {len(entries)} images listed, '
                    f'{unlabeled} without any of the {len(self.CLASSES)} '
                    f'concepts ({action})')
        data_list, num_missing = drop_missing_images(data_list,
                                                     f'NUSWIDE({self.split})')
        self.image_counts = dict(
            listed=len(entries),
            unlabeled=unlabeled,
            missing_file=num_missing,
            loaded=len(data_list))
        return data_list

    def extra_repr(self) -> List[str]:
        """Describe the files read and the image counts."""
        return [
            f'Image list: \t{self.ann_file}',
            f'Label directory: \t{self.label_dir}',
            f'Prefix of images: \t{self.img_prefix}',
            f'Image counts: \t{self.image_counts}',
        ]
