"""The Vision Transformer, written from scratch to be read.

"An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale"
(Dosovitskiy et al., ICLR 2021, arXiv 2010.11929).

The layering and every parameter name follow timm's `vision_transformer.py`, so a timm
state dict loads into these modules unchanged. Shapes in the comments are symbolic and then
for ViT-B/16 on a batch of two 224x224 images, `(B, N, D) = (2, 196, 768)`: B=2, C=3,
H=W=224, P=16, N=196 patches, D=768, h=12 heads of d=64 dimensions. Attention, Mlp and Block
see every token and call their count N as well: there N = 197, the patches and the class token.

The four equations of the paper:

    Eq.1  z_0  = [x_class; x_p^1 E; ...; x_p^N E] + E_pos
    Eq.2  z'_l = MSA(LN(z_{l-1})) + z_{l-1}            l = 1..L
    Eq.3  z_l  = MLP(LN(z'_l)) + z'_l                  l = 1..L
    Eq.4  y    = LN(z_L^0)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.jit import Final


def _pair(x: int | tuple[int, int]) -> tuple[int, int]:
    return (x, x) if isinstance(x, int) else tuple(x)


class PatchEmbed(nn.Module):
    """Cut the image into P x P patches and project each to D dimensions: the x_p^n E of Eq.1.

    A Conv2d whose kernel and stride are both P is exactly "flatten every patch and
    multiply by E": each output pixel sees one patch and nothing else.
    """

    def __init__(
        self,
        img_size: int | tuple[int, int] = 224,
        patch_size: int | tuple[int, int] = 16,
        in_chans: int = 3,
        embed_dim: int = 768,
    ):
        super().__init__()
        self.img_size, self.patch_size = _pair(img_size), _pair(patch_size)
        if any(s % p for s, p in zip(self.img_size, self.patch_size)):
            raise ValueError(
                f"image size {self.img_size[0]}x{self.img_size[1]} is not divisible by "
                f"patch size {self.patch_size[0]}x{self.patch_size[1]}"
            )
        self.in_chans = in_chans
        self.grid_size = (self.img_size[0] // self.patch_size[0], self.img_size[1] // self.patch_size[1])
        self.num_patches = self.grid_size[0] * self.grid_size[1]  # N = HW / P^2 = 196
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=self.patch_size, stride=self.patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_chans or tuple(x.shape[2:]) != self.img_size:
            raise ValueError(
                f"PatchEmbed expects input (B, {self.in_chans}, {self.img_size[0]}, {self.img_size[1]}), "
                f"got {tuple(x.shape)}"
            )
        # x: (B, C, H, W) = (2, 3, 224, 224)
        x = self.proj(x)  # (B, D, H/P, W/P) = (2, 768, 14, 14): one D-vector per patch
        x = x.flatten(2)  # (B, D, N) = (2, 768, 196): the 14x14 grid becomes a sequence
        x = x.transpose(1, 2)  # (B, N, D) = (2, 196, 768): tokens first, as the Transformer wants
        return x


class Attention(nn.Module):
    """Multi-head self-attention, the MSA of Eq.2.

    Two paths compute the same thing from the same weights: the fused
    `scaled_dot_product_attention` kernel, faster and the default, and the explicit one, step
    by step as the learning guide teaches. Only the explicit path forms the attention matrix;
    `vit_impl.attention.attention_maps` turns `fused_attn` off and reads the matrix from a
    forward hook on `attn_drop`, as timm's utils/attention_extract.py does, so `forward`
    always returns one tensor.
    """

    fused_attn: Final[bool]

    def __init__(
        self,
        dim: int,
        num_heads: int = 8,
        qkv_bias: bool = False,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"embed_dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads  # d = D / h = 64
        # 1/sqrt(d): with unit-variance q and k, q.k has variance d; unscaled, the logits grow
        # with d and the softmax saturates onto one token, where its gradient vanishes.
        self.scale = self.head_dim**-0.5
        self.fused_attn = True
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)  # W_Q, W_K, W_V in one matrix
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)  # W_O, mixes the heads back together
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, C = x.shape  # (B, N, D) = (2, 197, 768)
        # Steps 1-4: project to q, k, v and split the heads.
        qkv = self.qkv(x)  # (B, N, 3D) = (2, 197, 2304)
        qkv = qkv.reshape(B, N, 3, self.num_heads, self.head_dim)  # (B, N, 3, h, d) = (2, 197, 3, 12, 64)
        qkv = qkv.permute(2, 0, 3, 1, 4)  # (3, B, h, N, d) = (3, 2, 12, 197, 64): q/k/v first, heads before tokens
        q, k, v = qkv.unbind(0)  # each (B, h, N, d) = (2, 12, 197, 64)

        if self.fused_attn:
            x = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop.p if self.training else 0.0)
        else:
            # Step 5: how much token i attends to token j, softmax(q k^T / sqrt(d)).
            q = q * self.scale  # (B, h, N, d) = (2, 12, 197, 64); scaling q is cheaper than scaling N x N scores
            attn = q @ k.transpose(-2, -1)  # (B, h, N, N) = (2, 12, 197, 197)
            attn = attn.softmax(dim=-1)  # (B, h, N, N): each row (one query token) sums to 1
            attn = self.attn_drop(attn)  # (B, h, N, N); attention_maps hooks here
            # Step 6: each token becomes the weighted sum of the values it attends to.
            x = attn @ v  # (B, h, N, d) = (2, 12, 197, 64)

        # Step 7: merge the heads back: (heads, tokens) -> (tokens, heads x d).
        x = x.transpose(1, 2)  # (B, N, h, d) = (2, 197, 12, 64)
        x = x.reshape(B, N, C)  # (B, N, D) = (2, 197, 768)
        x = self.proj(x)  # (B, N, D) = (2, 197, 768)
        x = self.proj_drop(x)
        return x


class Mlp(nn.Module):
    """The MLP of Eq.3: two linear layers with a GELU between, D -> 4D -> D."""

    def __init__(self, in_features: int, hidden_features: int | None = None, drop: float = 0.0):
        super().__init__()
        hidden_features = hidden_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()  # the exact (erf) GELU, as in the paper and timm
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_features, in_features)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, N, D) = (2, 197, 768); every token goes through alone, no mixing between tokens
        x = self.fc1(x)  # (B, N, 4D) = (2, 197, 3072): widen
        x = self.act(x)  # (B, N, 4D): without it fc2(fc1(x)) would collapse into one Linear
        x = self.drop1(x)
        x = self.fc2(x)  # (B, N, D) = (2, 197, 768): back to the model width for the residual sum
        x = self.drop2(x)
        return x


MLP = Mlp


class DropPath(nn.Module):
    """Stochastic depth: during training, skip a residual branch for a random subset of samples."""

    def __init__(self, drop_prob: float = 0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)  # (B, 1, 1): one coin per sample
        if keep > 0:
            mask.div_(keep)  # rescale so the expected value is unchanged
        return x * mask


class Block(nn.Module):
    """One Transformer encoder layer, pre-norm: Eq.2 then Eq.3.

    Pre-norm (LN inside the residual branch, not after the sum) leaves the residual path an
    identity from the input to the output, so gradients reach the first blocks undamped and deep
    stacks train without the learning-rate warm-up that the post-norm Transformer needs.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = False,
        proj_drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
    ):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads, qkv_bias=qkv_bias, attn_drop=attn_drop, proj_drop=proj_drop)
        self.drop_path1 = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=proj_drop)
        self.drop_path2 = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, N, D) = (2, 197, 768) throughout
        x = x + self.drop_path1(self.attn(self.norm1(x)))  # Eq.2: z'_l = MSA(LN(z_{l-1})) + z_{l-1}
        x = x + self.drop_path2(self.mlp(self.norm2(x)))  # Eq.3: z_l = MLP(LN(z'_l)) + z'_l
        return x


class VisionTransformer(nn.Module):
    """ViT: patch embedding (Eq.1), L encoder blocks (Eq.2-3), final norm and head (Eq.4).

    Takes timm's constructor keywords, and its state dict has timm's keys and shapes.
    """

    def __init__(
        self,
        img_size: int | tuple[int, int] = 224,
        patch_size: int | tuple[int, int] = 16,
        in_chans: int = 3,
        num_classes: int = 1000,
        global_pool: str = "token",
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        class_token: bool = True,
        drop_rate: float = 0.0,
        pos_drop_rate: float = 0.0,
        proj_drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
    ):
        super().__init__()
        if global_pool not in ("token", "avg"):
            raise ValueError(f"global_pool must be 'token' or 'avg', got {global_pool!r}")
        if global_pool == "token" and not class_token:
            raise ValueError("global_pool='token' needs class_token=True; use global_pool='avg' without one")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.num_classes = num_classes
        self.global_pool = global_pool
        self.embed_dim = self.num_features = embed_dim
        self.num_prefix_tokens = 1 if class_token else 0

        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        num_patches = self.patch_embed.num_patches
        # x_class: a learned token with no image content; after L layers it summarises the image.
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if class_token else None
        # E_pos: one learned vector per position, so the model can tell patches apart by place.
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + self.num_prefix_tokens, embed_dim))
        self.pos_drop = nn.Dropout(pos_drop_rate)

        dpr = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]  # deeper layers drop more often
        self.blocks = nn.Sequential(
            *[
                Block(
                    embed_dim, num_heads, mlp_ratio, qkv_bias,
                    proj_drop=proj_drop_rate, attn_drop=attn_drop_rate, drop_path=dpr[i],
                )
                for i in range(depth)
            ]
        )
        # With average pooling timm normalises after pooling (fc_norm) instead of before (norm).
        use_fc_norm = global_pool == "avg"
        self.norm = nn.Identity() if use_fc_norm else nn.LayerNorm(embed_dim, eps=1e-6)
        self.fc_norm = nn.LayerNorm(embed_dim, eps=1e-6) if use_fc_norm else nn.Identity()
        self.head_drop = nn.Dropout(drop_rate)  # as in timm, drop_rate is the dropout before the head only
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        self.init_weights()

    def init_weights(self):
        """timm's default initialisation: truncated normal (std 0.02) for position embeddings and Linears."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        if self.cls_token is not None:
            nn.init.normal_(self.cls_token, std=1e-6)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _pos_embed(self, x: torch.Tensor) -> torch.Tensor:
        """Eq.1 after the patch projection: put the class token in front and add E_pos."""
        # x: (B, N, D) = (2, 196, 768), the x_p^n E
        if self.cls_token is not None:
            cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D) = (2, 1, 768), one copy per image
            x = torch.cat([cls, x], dim=1)  # (B, 1 + N, D) = (2, 197, 768): [x_class; x_p^1 E; ...; x_p^N E]
        # E_pos is (1, 1 + N, D), broadcast over the batch. Without it attention is blind to order:
        # permuting the patches would permute the outputs and nothing else.
        x = x + self.pos_embed  # (B, 1 + N, D) = (2, 197, 768): z_0
        return x

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)  # (B, N, D) = (2, 196, 768): x_p^n E
        x = self._pos_embed(x)  # (B, 1 + N, D) = (2, 197, 768): Eq.1, z_0
        x = self.pos_drop(x)
        x = self.blocks(x)  # Eq.2-3, L times: (B, 1 + N, D) = (2, 197, 768)
        x = self.norm(x)  # LN of Eq.4 (applied to every token; the head reads token 0)
        return x

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        if self.global_pool == "avg":
            x = x[:, self.num_prefix_tokens :].mean(dim=1)  # (B, D) = (2, 768): the mean of the patch tokens
        else:
            x = x[:, 0]  # Eq.4: y = LN(z_L^0), the class token: (B, D) = (2, 768)
        x = self.fc_norm(x)
        x = self.head_drop(x)
        x = self.head(x)  # (B, num_classes) = (2, 1000)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
