"""A whole Swin whose shifted-window blocks lost their attention mask."""

import swin_learner


class SwinTransformer(swin_learner.SwinTransformer):
    def __init__(self, img_size=224, patch_size=4, in_chans=3, num_classes=1000, embed_dim=96,
                 depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), window_size=7):
        super().__init__(img_size, patch_size, in_chans, num_classes, embed_dim, depths, num_heads, window_size)
        for layer in self.layers:
            for block in layer.blocks:
                block.attn_mask = None
