"""Load a timm Swin checkpoint (.pth, .pt or .safetensors) into a swin_impl model.

The same conversions as timm's `checkpoint_filter_fn` for Swin: the index and mask buffers
that old checkpoints saved are dropped (they follow from the window size), checkpoints of
the paper's own code (patch merging at the end of a stage, `head.weight`) are renamed to
timm's layout, and a relative position bias table learned for another window size is
resized to the model's window.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import torch
from torch import nn

from vit_impl.checkpoint_file import mismatches, read_state_dict

_DERIVED_BUFFERS = ("relative_position_index", "attn_mask")
_TABLE = "relative_position_bias_table"


def load_checkpoint(model: nn.Module, path: str | Path) -> nn.Module:
    """Load the weights at `path` into `model` strictly, resizing bias tables learned for another window.

    Raises ValueError naming the file and the missing, unexpected and mis-shaped keys.
    """
    path = Path(path)
    state = _timm_layout(read_state_dict(path))
    state = _fit_bias_tables(model, state, path)
    problems = mismatches(model.state_dict(), state)
    if problems:
        raise ValueError(f"{path}: checkpoint does not fit {type(model).__name__}:\n" + "\n".join(problems))
    model.load_state_dict(state, strict=True)
    return model


def _timm_layout(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop saved buffers; rename the paper's own layout (stage i ends with the merging that timm puts in i+1)."""
    original = "layers.0.downsample.reduction.weight" in state  # timm's stage 0 has no patch merging
    out = {}
    for key, value in state.items():
        if key.endswith(_DERIVED_BUFFERS):
            continue
        if original:
            key = re.sub(r"layers\.(\d+)\.downsample", lambda m: f"layers.{int(m.group(1)) + 1}.downsample", key)
            key = key.replace("head.", "head.fc.")
        out[key] = value
    return out


def _fit_bias_tables(model: nn.Module, state: dict[str, torch.Tensor], path: Path) -> dict[str, torch.Tensor]:
    """Resize every bias table whose size differs from the model's (a model built with another window size)."""
    ours = dict(model.named_parameters())
    out = dict(state)
    for key, table in state.items():
        if not key.endswith(_TABLE) or key not in ours or ours[key].shape == table.shape:
            continue
        attention = model.get_submodule(key[: -len(_TABLE) - 1])
        if table.ndim != 2 or table.shape[1] != ours[key].shape[1]:
            continue  # another number of heads: a different model, which the mismatch report names
        try:
            out[key] = resize_relative_position_bias_table(table, attention.window_size)
        except ValueError as err:
            raise ValueError(f"{path}: cannot resize {key} {tuple(table.shape)}: {err}") from None
    return out


def resize_relative_position_bias_table(table: torch.Tensor, window_size: tuple[int, int]) -> torch.Tensor:
    """A ((2M-1)^2, heads) table of a square M x M window, resampled for `window_size`, as timm resamples it.

    The old offsets are spread over the new range on a geometric grid (spacing 1 near 0,
    growing outwards: BEiT's recipe, which keeps the fine near-by biases as they were), then
    each new integer offset is interpolated linearly between its two neighbours.
    """
    side = math.isqrt(table.shape[0])
    if side * side != table.shape[0]:
        raise ValueError(f"a table of {table.shape[0]} offsets is not that of a square window")
    new = (2 * window_size[0] - 1, 2 * window_size[1] - 1)
    heads = table.shape[1]
    grid = table.float().T.reshape(heads, side, side)  # (heads, 2M-1, 2M-1): bias by (dy, dx)
    rows = _interpolation_matrix(_spread_offsets(side, new[0]), new[0])  # (new_h, side)
    cols = _interpolation_matrix(_spread_offsets(side, new[1]), new[1])  # (new_w, side)
    resized = rows @ grid @ cols.T  # (heads, new_h, new_w)
    return resized.reshape(heads, -1).T.contiguous().to(table.dtype)  # ((2Mh-1)(2Mw-1), heads)


def _spread_offsets(src: int, dst: int) -> torch.Tensor:
    """Where the `src` old offsets sit among `dst` new ones: 0, +-1, +-(1+q), +-(1+q+q^2)... out to about dst // 2."""
    half = src // 2
    total = lambda q: (1.0 - q**half) / (1.0 - q)  # 1 + q + ... + q^(half-1)
    low, high = 1.01, 1.5
    while high - low > 1e-6:  # bisect for the ratio q that puts the outermost offset at dst // 2
        q = (low + high) / 2.0
        if total(q) > dst // 2:
            high = q
        else:
            low = q
    steps, at = [], 1.0
    for i in range(half):
        steps.append(at)
        at += q ** (i + 1)
    return torch.tensor([-s for s in reversed(steps)] + [0.0] + steps)


def _interpolation_matrix(points: torch.Tensor, dst: int) -> torch.Tensor:
    """(dst, len(points)) weights of linear interpolation at the integer offsets -(dst//2)..dst//2; ends clamped."""
    targets = torch.arange(-(dst // 2), dst // 2 + 0.1, 1.0)
    right = torch.bucketize(targets, points).clamp(max=len(points) - 1)
    left = (right - 1).clamp(min=0)
    to_left = (targets - points[left]).clamp(min=0)  # distance from the left neighbour (0 beyond the ends)
    to_right = (points[right] - targets).clamp(min=0)
    on_point = (to_left == 0) & (to_right == 0)  # clamped to one end: all weight on it
    to_left[on_point] = to_right[on_point] = 1.0
    total = to_left + to_right
    weights = torch.zeros(dst, len(points))
    rows = torch.arange(dst)
    weights.index_put_((rows, left), to_right / total, accumulate=True)  # the nearer neighbour weighs more
    weights.index_put_((rows, right), to_left / total, accumulate=True)
    return weights
