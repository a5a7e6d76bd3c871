"""Windows: how Swin cuts a (B, H, W, C) map into M x M windows and puts it back together, the
attention mask of the shifted windows (SW-MSA, Section 3.2), and the offsets between the tokens
of a window that the relative position bias B of Eq.4 is looked up by.

Shapes in the comments as in `swin_impl.model`: symbolic, then swin_tiny's first stage on two
224x224 images (B=2, H=W=56, C=96, M=7: nW = 64 windows of N = 49 tokens).
"""

from __future__ import annotations

import torch


def pair(x: int | tuple[int, int]) -> tuple[int, int]:
    """A size given as one number or as (height, width), as a pair."""
    return (x, x) if isinstance(x, int) else tuple(x)


def window_partition(x: torch.Tensor, window_size: tuple[int, int]) -> torch.Tensor:
    """Cut a (B, H, W, C) map into non-overlapping windows: (B * nW, Mh, Mw, C), windows row by row."""
    B, H, W, C = x.shape  # (2, 56, 56, 96)
    Mh, Mw = window_size  # (7, 7)
    x = x.view(B, H // Mh, Mh, W // Mw, Mw, C)  # -> (2, 8, 7, 8, 7, 96): window row, row in it, window col, col in it
    x = x.permute(0, 1, 3, 2, 4, 5)  # -> (2, 8, 8, 7, 7, 96): the two window indices first
    return x.reshape(-1, Mh, Mw, C)  # -> (128, 7, 7, 96): 2 images x 64 windows


def window_reverse(windows: torch.Tensor, window_size: tuple[int, int], H: int, W: int) -> torch.Tensor:
    """Put (B * nW, Mh, Mw, C) windows back together into a (B, H, W, C) map: the inverse of `window_partition`."""
    C = windows.shape[-1]
    Mh, Mw = window_size
    x = windows.view(-1, H // Mh, W // Mw, Mh, Mw, C)  # (128, 7, 7, 96) -> (2, 8, 8, 7, 7, 96)
    x = x.permute(0, 1, 3, 2, 4, 5)  # -> (2, 8, 7, 8, 7, 96)
    return x.reshape(-1, H, W, C)  # -> (2, 56, 56, 96)


def relative_position_index(Mh: int, Mw: int) -> torch.Tensor:
    """(N, N) index into the bias table: entry [i, j] numbers the offset from token j to token i of a window.

    Offsets run from -(M-1) to M-1 on each axis, (2Mh-1)(2Mw-1) of them; two pairs of tokens
    with the same offset share one learned bias, wherever the window is.
    """
    coords = torch.stack(torch.meshgrid(torch.arange(Mh), torch.arange(Mw), indexing="ij")).flatten(1)  # (2, N)
    offsets = coords[:, :, None] - coords[:, None, :]  # (2, N, N): (dy, dx) from token j to token i
    dy = offsets[0] + (Mh - 1)  # shift to 0 .. 2Mh-2
    dx = offsets[1] + (Mw - 1)  # 0 .. 2Mw-2
    return dy * (2 * Mw - 1) + dx  # (49, 49), values 0 .. 168 = 13 x 13 - 1


def shifted_window_mask(H: int, W: int, window_size: tuple[int, int], shift_size: tuple[int, int]) -> torch.Tensor:
    """The (nW, N, N) attention mask of SW-MSA: 0 where two tokens of a shifted window may attend, -100 where not.

    After the cyclic shift, the windows along the bottom and right edges hold tokens that
    were far apart in the image (rolled in from the other side). Label each region of the
    shifted map by where it came from; tokens with different labels must not attend to each
    other. -100 rather than -inf, as the paper's code: softmax gives such a pair a weight of
    about e^-100 (nothing, next to the others), and a row can never become all -inf and NaN.
    """
    labels = torch.zeros(1, H, W, 1)
    region = 0
    for h in (slice(0, -window_size[0]), slice(-window_size[0], -shift_size[0]), slice(-shift_size[0], None)):
        for w in (slice(0, -window_size[1]), slice(-window_size[1], -shift_size[1]), slice(-shift_size[1], None)):
            labels[:, h, w, :] = region  # up to 9 regions: the body, the rolled-in strips and the corner
            region += 1
    windows = window_partition(labels, window_size).view(-1, window_size[0] * window_size[1])  # (nW, N) = (64, 49)
    different = windows[:, None, :] != windows[:, :, None]  # (64, 49, 49): query i and key j from different regions
    return torch.zeros(different.shape).masked_fill(different, -100.0)
