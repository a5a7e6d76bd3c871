"""Parts of a SwinTransformerBlock as modules of their own, for the equation registry's diagrams.

Each wraps the parts of a real block (shared, not copied), so they compute exactly what the
block computes.
"""

from __future__ import annotations

import torch
from torch import nn

from swin_impl.blocks import SwinTransformerBlock


class WindowMSA(nn.Module):
    """The (S)W-MSA of Eq.3 on a (B, H, W, C) map: cut into windows, attend in each, put back (Eq.2 counts its cost)."""

    def __init__(self, block: SwinTransformerBlock):
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block._attn(x)  # (2, 56, 56, 96) -> (128, 49, 96) windows -> (2, 56, 56, 96)
