"""Eq.1 and Eq.2 of the paper: the cost of global attention against attention in M x M windows.

Both count multiply-adds for one image on an h x w map of C-channel tokens, softmax left
out as in the paper: 4hwC^2 for the q, k, v and output projections, then the attention
matrix QK^T and its product with V: (hw)^2 C each for global attention, M^2 hw C each in
windows. Torch-free, so the registry's cells and the tests can use it anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from swin_impl.model import SwinTransformer


def msa_flops(h: int, w: int, C: int) -> int:
    """Eq.1: Omega(MSA) = 4hwC^2 + 2(hw)^2 C, quadratic in the number of tokens hw."""
    return 4 * h * w * C**2 + 2 * (h * w) ** 2 * C


def window_msa_flops(h: int, w: int, C: int, M: int) -> int:
    """Eq.2: Omega(W-MSA) = 4hwC^2 + 2M^2 hwC, linear in hw for a fixed window size M."""
    return 4 * h * w * C**2 + 2 * M**2 * h * w * C


@dataclass(frozen=True)
class StageCost:
    """One stage's attention cost per block and image, global against windowed."""

    stage: int  # 1..4, as the paper counts
    h: int
    w: int
    C: int
    M: int
    msa: int
    w_msa: int

    @property
    def ratio(self) -> float:
        return self.msa / self.w_msa


def stage_costs(model: SwinTransformer) -> list[StageCost]:
    """Eq.1 and Eq.2 for every stage of a built SwinTransformer (any device, meta included)."""
    costs = []
    for i, stage in enumerate(model.layers, start=1):
        h, w = stage.output_resolution
        block = stage.blocks[0]
        M = block.window_size[0]
        costs.append(StageCost(i, h, w, block.dim, M, msa_flops(h, w, block.dim), window_msa_flops(h, w, block.dim, M)))
    return costs
