"""A ViT without a class token: it classifies the first patch."""

import torch
from torch import nn

import vit_fused


class VisionTransformer(nn.Module):
    def __init__(self, img_size=224, patch_size=16, in_chans=3, num_classes=1000, embed_dim=768, depth=12,
                 num_heads=12):
        super().__init__()
        self.patch_embed = vit_fused.PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.patch_embed.num_patches, embed_dim))
        self.blocks = nn.Sequential(*[vit_fused.Block(embed_dim, num_heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, x):
        x = self.blocks(self.patch_embed(x) + self.pos_embed)
        return self.head(self.norm(x)[:, 0])
