"""A learner's SwinTransformerBlock and PatchMerging in the paper's own code's layout: tokens (B, H*W, C)
with the resolution given to the constructor, rather than timm's (B, H, W, C) map."""

import swin_learner


class SwinTransformerBlock(swin_learner.SwinTransformerBlock):
    def forward(self, x):
        H, W = self.input_resolution
        B, L, C = x.shape
        return super().forward(x.view(B, H, W, C)).view(B, L, C)


class PatchMerging(swin_learner.PatchMerging):
    def __init__(self, input_resolution, dim):
        super().__init__(dim)
        self.input_resolution = input_resolution

    def forward(self, x):
        H, W = self.input_resolution
        B, L, C = x.shape
        return super().forward(x.view(B, H, W, C)).view(B, -1, 2 * C)


