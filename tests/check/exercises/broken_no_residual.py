"""A Block that forgets the residual connection around the attention."""

import vit_fused


class Block(vit_fused.Block):
    def forward(self, x):
        x = self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))
