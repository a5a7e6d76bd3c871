"""The Swin Transformer, written from scratch to be read.

"Swin Transformer: Hierarchical Vision Transformer using Shifted Windows"
(Liu et al., ICCV 2021, arXiv 2103.14030).

The layering and every parameter name follow timm's `swin_transformer.py`, so a timm
state dict loads into these modules unchanged. Tokens travel as an image of vectors,
(B, H, W, C) ("NHWC"), as in timm. Shapes in the comments are given twice: symbolically,
then for swin_tiny_patch4_window7_224 on a batch of two 224x224 images in its first stage:
B=2, H=W=56 tokens, C=96, window M=7 (so nW = 8x8 = 64 windows of N = 7x7 = 49 tokens),
3 heads of d=32.

The equations of the paper:

    Eq.1  Omega(MSA)   = 4hwC^2 + 2(hw)^2 C        global attention: quadratic in hw
    Eq.2  Omega(W-MSA) = 4hwC^2 + 2M^2 hwC         attention inside M x M windows: linear in hw
    Eq.3  z^_l   = W-MSA(LN(z_{l-1})) + z_{l-1}     two successive blocks: regular windows,
          z_l    = MLP(LN(z^_l)) + z^_l
          z^_l+1 = SW-MSA(LN(z_l)) + z_l            then windows shifted by M/2
          z_l+1  = MLP(LN(z^_l+1)) + z^_l+1
    Eq.4  Attention(Q, K, V) = SoftMax(QK^T / sqrt(d) + B) V     B: the relative position bias

Read in this order: `swin_impl.windows` (cutting windows, the shift's mask, the offsets B is
looked up by), `swin_impl.blocks` (WindowAttention: Eq.4; SwinTransformerBlock: Eq.3),
`swin_impl.stages` (PatchMerging and a stage of blocks), then this module: the patch
embedding, the head, and the whole model. Eq.1 and Eq.2 count costs: `swin_impl.complexity`.
"""

from __future__ import annotations

import torch
from torch import nn

from swin_impl.stages import SwinTransformerStage
from swin_impl.windows import pair


class PatchEmbed(nn.Module):
    """Cut the image into P x P patches, project each to C dimensions and normalise: (B, 3, H, W) -> (B, H/P, W/P, C).

    A Conv2d whose kernel and stride are both P is "flatten every patch and multiply by a
    matrix", as in ViT; Swin keeps the 2-D layout (channels last) because windows are 2-D.
    """

    def __init__(
        self,
        img_size: int | tuple[int, int] = 224,
        patch_size: int | tuple[int, int] = 4,
        in_chans: int = 3,
        embed_dim: int = 96,
    ):
        super().__init__()
        self.img_size, self.patch_size = pair(img_size), pair(patch_size)
        if any(s < p for s, p in zip(self.img_size, self.patch_size)):
            raise ValueError(
                f"image size {self.img_size[0]}x{self.img_size[1]} is smaller than one patch of "
                f"{self.patch_size[0]}x{self.patch_size[1]}"
            )
        self.in_chans = in_chans
        # As timm: a side the patch size does not divide loses its last pixels (the convolution's floor).
        self.grid_size = (self.img_size[0] // self.patch_size[0], self.img_size[1] // self.patch_size[1])  # (56, 56)
        self.num_patches = self.grid_size[0] * self.grid_size[1]  # 3136
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=self.patch_size, stride=self.patch_size)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_chans or tuple(x.shape[2:]) != self.img_size:
            raise ValueError(
                f"PatchEmbed expects input (B, {self.in_chans}, {self.img_size[0]}, {self.img_size[1]}), "
                f"got {tuple(x.shape)}"
            )
        x = self.proj(x)  # (B, 3, H, W) -> (B, C, H/P, W/P): (2, 3, 224, 224) -> (2, 96, 56, 56)
        x = x.permute(0, 2, 3, 1)  # -> (B, H/P, W/P, C): (2, 56, 56, 96), one token per 4x4 patch
        return self.norm(x)


class ClassifierHead(nn.Module):
    """Average the tokens of the last map and classify: (B, H, W, C) -> (B, classes)."""

    def __init__(self, in_features: int, num_classes: int, drop_rate: float = 0.0):
        super().__init__()
        self.drop = nn.Dropout(drop_rate)
        self.fc = nn.Linear(in_features, num_classes) if num_classes > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.mean(dim=(1, 2))  # global average pool: (2, 7, 7, 768) -> (2, 768)
        return self.fc(self.drop(x))  # -> (2, 1000)


class SwinTransformer(nn.Module):
    """Swin: patch embedding, four stages of shifted-window blocks (56 -> 28 -> 14 -> 7 tokens a side,
    96 -> 192 -> 384 -> 768 channels for swin_tiny), a final LayerNorm and the head.

    Takes timm's constructor keywords, and its state dict has timm's keys and shapes.
    """

    def __init__(
        self,
        img_size: int | tuple[int, int] = 224,
        patch_size: int | tuple[int, int] = 4,
        in_chans: int = 3,
        num_classes: int = 1000,
        global_pool: str = "avg",
        embed_dim: int = 96,
        depths: tuple[int, ...] = (2, 2, 6, 2),
        num_heads: tuple[int, ...] = (3, 6, 12, 24),
        head_dim: int | None = None,
        window_size: int | tuple[int, int] = 7,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_rate: float = 0.0,
        proj_drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.1,
    ):
        super().__init__()
        if global_pool != "avg":
            raise ValueError(f"global_pool must be 'avg' (Swin averages its last map), got {global_pool!r}")
        if len(num_heads) != len(depths):
            raise ValueError(f"{len(depths)} stages (depths {tuple(depths)}) but {len(num_heads)} num_heads")
        self.num_classes = num_classes
        self.global_pool = global_pool
        self.num_layers = len(depths)
        self.embed_dim = embed_dim
        dims = [embed_dim * 2**i for i in range(self.num_layers)]  # 96, 192, 384, 768
        self.num_features = dims[-1]

        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        grid = self.patch_embed.grid_size  # (56, 56)

        # Stochastic depth grows linearly over all blocks of all stages, as in timm.
        rates = torch.linspace(0, drop_path_rate, sum(depths), device="cpu").split(list(depths))  # cpu: also under meta
        stages, scale = [], 1
        for i in range(self.num_layers):
            stages.append(
                SwinTransformerStage(
                    dim=dims[max(i - 1, 0)], out_dim=dims[i],
                    input_resolution=tuple((g + scale - 1) // scale for g in grid),  # 56, 56, 28, 14
                    depth=depths[i], downsample=i > 0, num_heads=num_heads[i], head_dim=head_dim,
                    window_size=window_size, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias,
                    proj_drop=proj_drop_rate, attn_drop=attn_drop_rate, drop_path=rates[i].tolist(),
                )
            )
            if i > 0:
                scale *= 2
        self.layers = nn.Sequential(*stages)
        self.norm = nn.LayerNorm(self.num_features)
        self.head = ClassifierHead(self.num_features, num_classes, drop_rate)
        self.init_weights()

    def init_weights(self) -> None:
        """timm's default initialisation: truncated normal (std 0.02) for every Linear, zero biases."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)  # (2, 3, 224, 224) -> (2, 56, 56, 96)
        x = self.layers(x)  # -> (2, 56, 56, 96) -> (2, 28, 28, 192) -> (2, 14, 14, 384) -> (2, 7, 7, 768)
        return self.norm(x)  # (2, 7, 7, 768)

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)  # (2, 7, 7, 768) -> (2, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
