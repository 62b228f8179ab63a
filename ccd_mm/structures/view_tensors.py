"""Image views as tensors: the form in which the labeling passes hand views
to the teacher and the classifier (uint8 or float RGB, batched by shape)."""
from collections import defaultdict
from typing import List, Sequence, Tuple

import torch
from PIL import Image
from torchvision.transforms.functional import pil_to_tensor


def as_unit_range(views: torch.Tensor) -> torch.Tensor:
    """Float RGB in [0, 1] from uint8 views (what the labeling datasets
    give) or from float views already in [0, 1]."""
    if views.dtype == torch.uint8:
        return views.float().div_(255)
    return views.float()


def image_to_tensor(image: Image.Image) -> torch.Tensor:
    """(3, H, W) float RGB in [0, 1]."""
    return as_unit_range(pil_to_tensor(image))


def stack_by_shape(
        views: Sequence[torch.Tensor]
) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    """Group views of equal shape into one tensor each, so views of many
    sizes cost one forward per distinct size rather than one per view.

    Returns:
        ``[(positions (k,), stacked (k, 3, h, w)), ...]``: the positions in
        ``views`` of the views of one shape and those views stacked.
    """
    groups = defaultdict(list)
    for position, view in enumerate(views):
        groups[tuple(view.shape)].append(position)
    return [(torch.tensor(positions),
             torch.stack([views[p] for p in positions]))
            for positions in groups.values()]
