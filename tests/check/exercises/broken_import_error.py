"""Raises while being imported (a typo in a name)."""

import torch
from torch import nn


class PatchEmbed(nn.Module):
    def __init__(self, embed_dim=768):
        super().__init__()
        self.proj = nn.Conv2d(3, embed_dim, 16, 16)


model = PatchEmbd()
