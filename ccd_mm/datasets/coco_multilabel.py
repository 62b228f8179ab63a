from typing import List, Optional, Union

from mmengine.fileio import join_path
from mmengine.logging import MMLogger
from mmpretrain.datasets import MultiLabelDataset
from mmpretrain.registry import DATASETS

from .annotation_json import check_record_keys, load_annotation_json
from .image_files import drop_missing_images

# The 80 object categories of COCO, in the order of their category ids in
# ``instances_*2014.json`` (ids 1..90 with gaps map to indices 0..79).
COCO_CATEGORIES = ('person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus',
                   'train', 'truck', 'boat', 'traffic light', 'fire hydrant',
                   'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog',
                   'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra',
                   'giraffe', 'backpack', 'umbrella', 'handbag', 'tie',
                   'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball',
                   'kite', 'baseball bat', 'baseball glove', 'skateboard',
                   'surfboard', 'tennis racket', 'bottle', 'wine glass', 'cup',
                   'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
                   'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog',
                   'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant',
                   'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse',
                   'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
                   'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase',
                   'scissors', 'teddy bear', 'hair drier', 'toothbrush')


@DATASETS.register_module()
class COCOMultiLabel(MultiLabelDataset):
    """COCO-2014 as an 80-class multi-label classification dataset.

    An image's labels are the categories of all its instance annotations
    (crowd annotations included: they name objects that are in the image),
    read from the official ``instances_{train,val}2014.json``.

    Expected directory tree (the official archives unpacked side by side)::

        coco
        ├── annotations
        │   ├── instances_train2014.json
        │   └── instances_val2014.json
        ├── train2014
        │   ├── COCO_train2014_000000000009.jpg
        │   └── ...
        └── val2014
            ├── COCO_val2014_000000000042.jpg
            └── ...

    Config: ``dict(type='COCOMultiLabel', data_root='data/coco',
    split='train')``; the evaluation split is ``split='val'``.

    Args:
        data_root (str): The ``coco`` directory above.
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
        ann_file (str): Annotation json, relative to ``data_root``.
            Defaults to ``''``: ``annotations/instances_{split}2014.json``.
        data_prefix (str | dict): Image directory, relative to
            ``data_root``. Defaults to None: ``dict(img_path='{split}2014')``.
        keep_unannotated (bool, optional): Whether images with no annotation
            of the dataset's classes are kept, with an all-negative label.
            Defaults to None: kept in ``val`` (they are real test images
            and only add negatives to every class) and dropped in ``train``,
            which gives the 82,081 training images of the CCD/CDUL papers
            (Sec. 4.1). Their number is logged either way.
        test_mode (bool): Passed to :class:`MultiLabelDataset`.
            Defaults to False.
        metainfo (dict, optional): Overrides ``METAINFO``; ``classes`` may be
            any subset of the COCO names, matched by name. Defaults to None.
        **kwargs: Other arguments of :class:`MultiLabelDataset`
            (``pipeline``, ``lazy_init``, ...).

    Notes:
        Category ids are mapped to class indices by name, so with the default
        classes the indices follow the COCO category-id order. A class name
        missing from the json raises ``ValueError`` at construction, as do
        a record without a key the loader reads (``id``, ``file_name``,
        ``image_id``, ``category_id``, ``name``) and an annotation whose
        ``category_id`` is no category of the file, naming the file, the
        record and the value.

        Image files are checked when the data list is loaded: missing ones
        are dropped, counted and logged (with a few example paths) instead of
        failing in a DataLoader worker later; if none of the listed images
        exists, ``FileNotFoundError`` is raised. The counts are kept in
        ``image_counts`` (``listed``, ``unannotated``, ``missing_file``,
        ``loaded``). Images are not decoded here: corrupt files are found by
        the labeling pass, before training.
    """

    METAINFO = {'classes': COCO_CATEGORIES}
    SPLITS = ('train', 'val')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_file: str = '',
                 data_prefix: Union[str, dict, None] = None,
                 keep_unannotated: Optional[bool] = None,
                 test_mode: bool = False,
                 metainfo: Optional[dict] = None,
                 **kwargs):
        if split not in self.SPLITS:
            raise ValueError(
                f'split must be one of {self.SPLITS}, got {split!r}')
        self.split = split
        self.keep_unannotated = (
            split == 'val' if keep_unannotated is None else keep_unannotated)
        self.image_counts = dict()
        super().__init__(
            ann_file=ann_file or f'annotations/instances_{split}2014.json',
            data_root=data_root,
            data_prefix=data_prefix or dict(img_path=f'{split}2014'),
            test_mode=test_mode,
            metainfo=metainfo,
            **kwargs)

    def _category_id_to_index(self, categories: List[dict]) -> dict:
        """Map the json's category ids to indices of ``self.CLASSES``."""
        name_to_id = {cat['name']: cat['id'] for cat in categories}
        absent = [name for name in self.CLASSES if name not in name_to_id]
        if absent:
            raise ValueError(
                f'classes {absent} are not categories of {self.ann_file}; '
                f'its categories are {sorted(name_to_id)}')
        return {name_to_id[name]: i for i, name in enumerate(self.CLASSES)}

    def _read_annotations(self) -> dict:
        """The json, with the lists and record keys this loader reads; any
        problem is an error naming the file (and the record)."""
        coco = load_annotation_json(
            self.ann_file, ('images', 'annotations', 'categories'),
            'a COCO instances file (instances_*2014.json)')
        if not coco['images']:
            raise ValueError(f'{self.ann_file} lists no images')
        for name, keys in (('images', ('id', 'file_name')),
                           ('annotations', ('image_id', 'category_id')),
                           ('categories', ('id', 'name'))):
            check_record_keys(self.ann_file, name, coco[name], keys)
        known = {image['id'] for image in coco['images']}
        unknown = sorted({ann['image_id']
                          for ann in coco['annotations']} - known)
        if unknown:
            raise ValueError(
                f'{self.ann_file} annotates {len(unknown)} image ids that '
                f'it does not list in "images", e.g. {unknown[:3]}')
        self._check_category_ids(coco)
        return coco

    def _check_category_ids(self, coco: dict) -> None:
        """Refuse an annotation whose category is none of the file's (a
        category of the file that is not one of ``CLASSES`` is left out, as
        a subset of classes asks)."""
        category_ids = {cat['id'] for cat in coco['categories']}
        for index, ann in enumerate(coco['annotations']):
            if ann['category_id'] not in category_ids:
                raise ValueError(
                    f'{self.ann_file}: annotations[{index}] has category_id '
                    f'{ann["category_id"]}, which is no category of the file '
                    f'(ids {min(category_ids)}..{max(category_ids)})')

    def load_data_list(self) -> List[dict]:
        """Read image labels from the json, then drop missing image files."""
        logger = MMLogger.get_current_instance()
        coco = self._read_annotations()
        category_to_index = self._category_id_to_index(coco['categories'])

        labels = {image['id']: set() for image in coco['images']}
        for ann in coco['annotations']:
            if ann['category_id'] in category_to_index:
                labels[ann['image_id']].add(
                    category_to_index[ann['category_id']])

        images = sorted(coco['images'], key=lambda image: image['id'])
        unannotated = [
            image['file_name'] for image in images if not labels[image['id']]
        ]
        action = 'kept as all-negative' if self.keep_unannotated else 'dropped'
        logger.info(f'COCOMultiLabel({self.split}): {len(images)} images '
                    f'listed, {len(unannotated)} without annotation '
                    f'({action}), e.g. {unannotated[:3]}')

        data_list = [
            dict(
                img_path=join_path(self.img_prefix, image['file_name']),
                gt_label=sorted(labels[image['id']])) for image in images
            if labels[image['id']] or self.keep_unannotated
        ]
        if not data_list:
            raise ValueError(
                f'none of the {len(images)} images of {self.ann_file} has an '
                f'annotation of the classes {list(self.CLASSES)[:5]}...')
        data_list, num_missing = drop_missing_images(
            data_list, f'COCOMultiLabel({self.split})')
        self.image_counts = dict(
            listed=len(images),
            unannotated=len(unannotated),
            missing_file=num_missing,
            loaded=len(data_list))
        return data_list

    def extra_repr(self) -> List[str]:
        """Describe the files read and the image counts."""
        return [
            f'Annotation file: \t{self.ann_file}',
            f'Prefix of images: \t{self.img_prefix}',
            f'Image counts: \t{self.image_counts}',
        ]
