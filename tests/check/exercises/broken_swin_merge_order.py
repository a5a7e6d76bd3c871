"""Patch merging that concatenates the 2 x 2 neighbours row by row (top-left, top-right, bottom-left, bottom-right)."""

import torch

import swin_learner


class PatchMerging(swin_learner.PatchMerging):
    def forward(self, x):
        B, H, W, C = x.shape
        x = x.view(B, H // 2, 2, W // 2, 2, C).permute(0, 1, 3, 2, 4, 5).reshape(B, H // 2, W // 2, 4 * C)
        return self.reduction(self.norm(x))
