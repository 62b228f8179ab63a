"""Running CLIP image towers above (or below) their native resolution.

OpenAI's ResNet CLIPs pool the last feature map with an attention layer whose
positional embedding is fixed to the native grid (14 x 14 for RN50x64 at 448
px); ViT CLIPs add a positional embedding per patch. CCD runs RN50x64 at 640 x
640 (docs/method.md, section 1), so the embedding is resized to the token grid
of the input: bilinear on the 2-D grid, the class token kept as is.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from open_clip.modified_resnet import ModifiedResNet
from open_clip.transformer import VisionTransformer
from open_clip.utils import to_2tuple
from torch import Tensor, nn

Grid = Tuple[int, int]


def positional_embedding_name(visual: nn.Module) -> Optional[str]:
    """Parameter name of the grid positional embedding inside an image tower.

    Args:
        visual (nn.Module): an open_clip image tower (``model.visual``).

    Returns:
        str | None: ``'attnpool.positional_embedding'`` for a ModifiedResNet,
        ``'positional_embedding'`` for a VisionTransformer, None for other
        towers (timm), which receive their input unchanged.
    """
    if isinstance(visual, ModifiedResNet):
        return 'attnpool.positional_embedding'
    if isinstance(visual, VisionTransformer):
        return 'positional_embedding'
    return None


def token_grid(visual: nn.Module, height: int, width: int) -> Grid:
    """Rows and columns of the token grid an image tower makes of an input.

    Args:
        visual (nn.Module): a ModifiedResNet or VisionTransformer tower.
        height (int): input height in pixels.
        width (int): input width in pixels.

    Returns:
        Tuple[int, int]: grid size; for the tower's own ``image_size`` this
        is the grid its positional embedding was trained on.
    """
    if isinstance(visual, ModifiedResNet):
        # Stem conv with stride 2 and padding 1 rounds up; the four 2x average
        # pools after it (stem, layer2-4) each round down.
        return (height + 1) // 2 // 16, (width + 1) // 2 // 16
    patch_height, patch_width = visual.patch_size
    return height // patch_height, width // patch_width


def native_grid(visual: nn.Module) -> Grid:
    """Token grid of an image tower at its native input size."""
    return token_grid(visual, *to_2tuple(visual.image_size))


def resize_positional_embedding(pos_embed: Tensor, src_grid: Grid,
                                dst_grid: Grid) -> Tensor:
    """Resize a ``(1 + rows * cols, D)`` positional embedding to another grid.

    Args:
        pos_embed (Tensor): class-token row followed by the grid rows in
            row-major order, as in open_clip's towers.
        src_grid (Tuple[int, int]): grid ``pos_embed`` belongs to.
        dst_grid (Tuple[int, int]): grid of the input to run; may be
            non-square (crops keep their aspect ratio).

    Returns:
        Tensor: ``(1 + dst_rows * dst_cols, D)``; ``pos_embed`` itself when the
        grids are equal, so native-resolution outputs are bit-identical.
    """
    if tuple(src_grid) == tuple(dst_grid):
        return pos_embed
    class_token, grid = pos_embed[:1], pos_embed[1:]
    dim = grid.shape[-1]
    grid = grid.reshape(1, *src_grid, dim).permute(0, 3, 1, 2)
    grid = F.interpolate(
        grid.float(),
        size=tuple(dst_grid),
        mode='bilinear',
        align_corners=False).to(pos_embed.dtype)
    grid = grid.permute(0, 2, 3, 1).reshape(-1, dim)
    return torch.cat([class_token, grid])
