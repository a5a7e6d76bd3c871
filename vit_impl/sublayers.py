"""The four equations of the paper as modules of their own, for the equation registry.

Each wraps the parts of a real `VisionTransformer` or `Block` (shared, not copied), so
running Eq.1, then Eq.2 and Eq.3 for every block, then Eq.4 computes exactly what the
model computes; the tests check that. Shapes in comments are ViT-B/16 at batch 2.
"""

from __future__ import annotations

import torch
from torch import nn

from vit_impl.model import Block, VisionTransformer


class Embedding(nn.Module):
    """Eq.1: z_0 = [x_class; x_p^1 E; ...; x_p^N E] + E_pos, the first lines of `VisionTransformer.forward_features`."""

    def __init__(self, vit: VisionTransformer):
        super().__init__()
        self.patch_embed = vit.patch_embed
        self.cls_token = vit.cls_token
        self.pos_embed = vit.pos_embed

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(images)  # (B, C, H, W) = (2, 3, 224, 224) -> (B, N, D) = (2, 196, 768): x_p^n E
        # The model's own code for the rest of Eq.1: it reads only the cls_token and pos_embed shared here.
        return VisionTransformer._pos_embed(self, x)  # (B, 1 + N, D) = (2, 197, 768): [x_class; ...] + E_pos


class AttentionSublayer(nn.Module):
    """Eq.2: z'_l = MSA(LN(z_{l-1})) + z_{l-1}, the first line of `Block.forward`."""

    def __init__(self, block: Block):
        super().__init__()
        self.norm1, self.attn, self.drop_path1 = block.norm1, block.attn, block.drop_path1

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z + self.drop_path1(self.attn(self.norm1(z)))  # (B, 1 + N, D) = (2, 197, 768)


class MlpSublayer(nn.Module):
    """Eq.3: z_l = MLP(LN(z'_l)) + z'_l, the second line of `Block.forward`."""

    def __init__(self, block: Block):
        super().__init__()
        self.norm2, self.mlp, self.drop_path2 = block.norm2, block.mlp, block.drop_path2

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z + self.drop_path2(self.mlp(self.norm2(z)))  # (B, 1 + N, D) = (2, 197, 768)


class ClassTokenNorm(nn.Module):
    """Eq.4: y = LN(z_L^0), the final LayerNorm applied to the class token."""

    def __init__(self, vit: VisionTransformer):
        super().__init__()
        self.norm = vit.norm

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # As the model does it: normalise every token, then read token 0. The paper writes LN(z_L^0),
        # token 0 first; LayerNorm works on each token alone, so both orders give the same y.
        z = self.norm(z)  # (B, 1 + N, D) = (2, 197, 768)
        return z[:, 0]  # (B, D) = (2, 768)
