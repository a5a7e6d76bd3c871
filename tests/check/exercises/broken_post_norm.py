"""A Block written post-norm, like the original Transformer."""

import vit_fused


class Block(vit_fused.Block):
    def forward(self, x):
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.mlp(x))
