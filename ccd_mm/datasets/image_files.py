"""Image files that an annotation lists but that are absent on disk.

Dataset loaders drop such entries at construction, with a count, instead of
failing in a DataLoader worker mid-epoch; evaluation splits are checked again
before a run starts (``EvalImageCheckHook``), since there a dropped image
would change the metric.
"""
from typing import List, Sequence, Tuple

from mmengine.fileio import exists
from mmengine.logging import MMLogger


def missing_image_paths(img_paths: Sequence[str]) -> List[str]:
    """The paths of ``img_paths`` that do not exist (in their order)."""
    return [path for path in img_paths if not exists(path)]


def drop_missing_images(data_list: List[dict],
                        owner: str) -> Tuple[List[dict], int]:
    """Keep the data infos whose ``img_path`` exists.

    Args:
        data_list (list[dict]): Data infos with an ``img_path`` each.
        owner (str): Who lists them, for the messages, e.g.
            ``'COCOMultiLabel(train)'``.

    Returns:
        tuple[list[dict], int]: The kept infos and how many were dropped.
        A warning gives the count and a few example paths.

    Raises:
        FileNotFoundError: If there were entries but none of their files
            exists (a wrong ``data_root`` or ``data_prefix``, most likely).
    """
    missing = set(
        missing_image_paths([info['img_path'] for info in data_list]))
    kept = [info for info in data_list if info['img_path'] not in missing]
    if missing:
        examples = sorted(missing)[:3]
        MMLogger.get_current_instance().warning(
            f'{owner}: {len(missing)} image files are missing and were '
            f'dropped (of {len(data_list)} listed), e.g. {examples}')
        if not kept:
            raise FileNotFoundError(
                f'{owner}: none of the {len(data_list)} listed image files '
                f'exists, e.g. {examples}; check data_root and data_prefix')
    return kept, len(missing)
