"""Between the stages and in them: patch merging (halve the resolution, double the channels) and
a stage of blocks alternating regular and shifted windows, Section 3.1's hierarchy.

Parameter names are timm's (`swin_transformer.py`). Shapes in the comments as in
`swin_impl.model`: symbolic, then swin_tiny on two 224x224 images, from the first stage's
56 x 56 map of C=96 channels into the second's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from swin_impl.blocks import SwinTransformerBlock
from swin_impl.windows import pair


class PatchMerging(nn.Module):
    """Halve the resolution, double the channels: each 2x2 group of tokens becomes one token.

    (B, H, W, C) -> (B, H/2, W/2, 2C): the four neighbours are concatenated (4C), normalised,
    and projected to 2C, the "linear layer" of Section 3.1. The order of the four is the
    paper's code's: top-left, bottom-left, top-right, bottom-right; a checkpoint's weights
    depend on it.
    """

    def __init__(self, dim: int, out_dim: int | None = None):
        super().__init__()
        self.dim = dim
        self.out_dim = out_dim or 2 * dim
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, self.out_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, H, W, C = x.shape  # (2, 56, 56, 96)
        if H % 2 or W % 2:  # an odd side gets a row or column of zeros
            x = F.pad(x, (0, 0, 0, W % 2, 0, H % 2))
            H, W = H + H % 2, W + W % 2
        # The paper's code takes x[:, 0::2, 0::2] (top-left of every 2x2 group), x[:, 1::2, 0::2]
        # (bottom-left), x[:, 0::2, 1::2] (top-right), x[:, 1::2, 1::2] (bottom-right) and concatenates
        # them. One reshape and one permute give the same order with one copy (forward and backward):
        x = x.reshape(B, H // 2, 2, W // 2, 2, C)  # -> (2, 28, 2, 28, 2, 96): group row, row in it, group col, col in it
        x = x.permute(0, 1, 3, 4, 2, 5)  # -> (2, 28, 28, 2, 2, 96): column in the group, then row: TL, BL, TR, BR
        x = x.flatten(3)  # -> (B, H/2, W/2, 4C) = (2, 28, 28, 384): [top-left, bottom-left, top-right, bottom-right]
        return self.reduction(self.norm(x))  # -> (B, H/2, W/2, 2C) = (2, 28, 28, 192)


class SwinTransformerStage(nn.Module):
    """One stage: patch merging (all but the first stage), then `depth` blocks alternating W-MSA and SW-MSA."""

    def __init__(
        self,
        dim: int,
        out_dim: int,
        input_resolution: int | tuple[int, int],
        depth: int,
        downsample: bool = True,
        num_heads: int = 4,
        head_dim: int | None = None,
        window_size: int | tuple[int, int] = 7,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        proj_drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float | list[float] = 0.0,
    ):
        super().__init__()
        self.dim = dim
        self.input_resolution = pair(input_resolution)
        self.output_resolution = tuple((r + 1) // 2 for r in self.input_resolution) if downsample else self.input_resolution
        self.depth = depth
        window_size = pair(window_size)
        shift_size = tuple(w // 2 for w in window_size)  # M/2 = 3

        if downsample:
            self.downsample = PatchMerging(dim, out_dim)
        else:
            if dim != out_dim:
                raise ValueError(f"a stage without patch merging keeps its width: dim {dim} != out_dim {out_dim}")
            self.downsample = nn.Identity()
        drop_paths = drop_path if isinstance(drop_path, (list, tuple)) else [drop_path] * depth
        self.blocks = nn.Sequential(
            *[
                SwinTransformerBlock(
                    out_dim, self.output_resolution, num_heads=num_heads, head_dim=head_dim,
                    window_size=window_size,
                    shift_size=0 if i % 2 == 0 else shift_size,  # even blocks W-MSA, odd blocks SW-MSA
                    mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, proj_drop=proj_drop, attn_drop=attn_drop,
                    drop_path=drop_paths[i],
                )
                for i in range(depth)
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.downsample(x)  # stage 2: (2, 56, 56, 96) -> (2, 28, 28, 192)
        return self.blocks(x)  # same shape out as in
