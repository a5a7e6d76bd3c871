"""A ViT that declares a position embedding but never adds it."""

import torch

import vit_fused


class VisionTransformer(vit_fused.VisionTransformer):
    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 0])
