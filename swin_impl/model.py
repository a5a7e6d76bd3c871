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
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from vit_impl.model import DropPath, Mlp  # the same MLP and stochastic depth as ViT's


def _pair(x: int | tuple[int, int]) -> tuple[int, int]:
    return (x, x) if isinstance(x, int) else tuple(x)


def window_partition(x: torch.Tensor, window_size: tuple[int, int]) -> torch.Tensor:
    """Cut a (B, H, W, C) map into non-overlapping windows: (B * nW, Mh, Mw, C), windows row by row."""
    B, H, W, C = x.shape  # (2, 56, 56, 96)
    Mh, Mw = window_size  # (7, 7)
    x = x.view(B, H // Mh, Mh, W // Mw, Mw, C)  # -> (2, 8, 7, 8, 7, 96): window row, row in it, window col, col in it
    x = x.permute(0, 1, 3, 2, 4, 5)  # -> (2, 8, 8, 7, 7, 96): the two window indices first
    return x.reshape(-1, Mh, Mw, C)  # -> (128, 7, 7, 96): 2 images x 64 windows


def window_reverse(windows: torch.Tensor, window_size: tuple[int, int], H: int, W: int) -> torch.Tensor:
    """Put (B * nW, Mh, Mw, C) windows back together into a (B, H, W, C) map: the inverse of `window_partition`."""
    C = windows.shape[-1]
    Mh, Mw = window_size
    x = windows.view(-1, H // Mh, W // Mw, Mh, Mw, C)  # (128, 7, 7, 96) -> (2, 8, 8, 7, 7, 96)
    x = x.permute(0, 1, 3, 2, 4, 5)  # -> (2, 8, 7, 8, 7, 96)
    return x.reshape(-1, H, W, C)  # -> (2, 56, 56, 96)


def relative_position_index(Mh: int, Mw: int) -> torch.Tensor:
    """(N, N) index into the bias table: entry [i, j] numbers the offset from token j to token i of a window.

    Offsets run from -(M-1) to M-1 on each axis, (2Mh-1)(2Mw-1) of them; two pairs of tokens
    with the same offset share one learned bias, wherever the window is.
    """
    coords = torch.stack(torch.meshgrid(torch.arange(Mh), torch.arange(Mw), indexing="ij")).flatten(1)  # (2, N)
    offsets = coords[:, :, None] - coords[:, None, :]  # (2, N, N): (dy, dx) from token j to token i
    dy = offsets[0] + (Mh - 1)  # shift to 0 .. 2Mh-2
    dx = offsets[1] + (Mw - 1)  # 0 .. 2Mw-2
    return dy * (2 * Mw - 1) + dx  # (49, 49), values 0 .. 168 = 13 x 13 - 1


def shifted_window_mask(H: int, W: int, window_size: tuple[int, int], shift_size: tuple[int, int]) -> torch.Tensor:
    """The (nW, N, N) attention mask of SW-MSA: 0 where two tokens of a shifted window may attend, -100 where not.

    After the cyclic shift, the windows along the bottom and right edges hold tokens that
    were far apart in the image (rolled in from the other side). Label each region of the
    shifted map by where it came from; tokens with different labels must not attend to each
    other. -100 rather than -inf, as the paper's code: softmax gives such a pair a weight of
    about e^-100 (nothing, next to the others), and a row can never become all -inf and NaN.
    """
    labels = torch.zeros(1, H, W, 1)
    region = 0
    for h in (slice(0, -window_size[0]), slice(-window_size[0], -shift_size[0]), slice(-shift_size[0], None)):
        for w in (slice(0, -window_size[1]), slice(-window_size[1], -shift_size[1]), slice(-shift_size[1], None)):
            labels[:, h, w, :] = region  # up to 9 regions: the body, the rolled-in strips and the corner
            region += 1
    windows = window_partition(labels, window_size).view(-1, window_size[0] * window_size[1])  # (nW, N) = (64, 49)
    different = windows[:, None, :] != windows[:, :, None]  # (64, 49, 49): query i and key j from different regions
    return torch.zeros(different.shape).masked_fill(different, -100.0)


class PatchEmbed(nn.Module):
    """Cut the image into P x P patches, project each to C dimensions and normalise: (B, 3, H, W) -> (B, H/P, W/P, C).

    A Conv2d whose kernel and stride are both P is "flatten every patch and multiply by a
    matrix", as in ViT; Swin keeps the 2-D layout (channels last) because windows are 2-D.
    """

    def __init__(self, img_size=224, patch_size=4, in_chans=3, embed_dim=96):
        super().__init__()
        self.img_size, self.patch_size = _pair(img_size), _pair(patch_size)
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


class WindowAttention(nn.Module):
    """Multi-head self-attention inside each window, with a relative position bias: Eq.4.

    Attention(Q, K, V) = SoftMax(QK^T / sqrt(d) + B) V, where B[i, j] is a learned number per
    head for the offset between tokens i and j. The explicit path forms the attention matrix
    step by step, as timm's default does; `fused_attn` hands the same sum to
    `scaled_dot_product_attention`, with B (and the shift mask) as its additive mask.
    """

    def __init__(self, dim, num_heads, head_dim=None, window_size=7, qkv_bias=True, attn_drop=0.0, proj_drop=0.0):
        super().__init__()
        self.dim = dim
        self.window_size = _pair(window_size)  # (Mh, Mw) = (7, 7)
        Mh, Mw = self.window_size
        self.window_area = Mh * Mw  # N = 49 tokens in a window
        self.num_heads = num_heads
        head_dim = head_dim or dim // num_heads  # d = 96 / 3 = 32
        attn_dim = head_dim * num_heads
        self.scale = head_dim**-0.5  # 1 / sqrt(d)
        self.fused_attn = False

        # B's table: one learned bias per head for each of the (2Mh-1)(2Mw-1) = 169 offsets.
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * Mh - 1) * (2 * Mw - 1), num_heads))
        # Derived from the window size alone, so not saved in the state dict (as in timm).
        self.register_buffer("relative_position_index", relative_position_index(Mh, Mw), persistent=False)

        self.qkv = nn.Linear(dim, attn_dim * 3, bias=qkv_bias)  # W_Q, W_K, W_V in one matrix
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(attn_dim, dim)  # mixes the heads back together
        self.proj_drop = nn.Dropout(proj_drop)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def relative_position_bias(self) -> torch.Tensor:
        """B of Eq.4 for every head: (1, heads, N, N), looked up in the table by offset."""
        N = self.window_area
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]  # (N*N, heads) = (2401, 3)
        # contiguous: added to every window's scores, a permuted view is slower (forward and backward)
        bias = bias.view(N, N, -1).permute(2, 0, 1).contiguous()  # -> (heads, N, N) = (3, 49, 49)
        return bias.unsqueeze(0)  # -> (1, 3, 49, 49): the same B for every window

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B*nW, N, C) -> (B*nW, N, C); `mask` (nW, N, N) of 0 / -100 for shifted windows."""
        B_, N, C = x.shape  # (B*nW, N, C) = (128, 49, 96): every window of every image is a sequence
        qkv = self.qkv(x).reshape(B_, N, 3, self.num_heads, -1)  # -> (128, 49, 3, 3, 32): q/k/v, heads, d
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B*nW, heads, N, d) = (128, 3, 49, 32)

        if self.fused_attn:
            attn_mask = self.relative_position_bias()  # (1, 3, 49, 49)
            if mask is not None:
                nW = mask.shape[0]
                mask = mask.view(1, nW, 1, N, N).expand(B_ // nW, -1, self.num_heads, -1, -1)
                attn_mask = attn_mask + mask.reshape(-1, self.num_heads, N, N)  # (128, 3, 49, 49)
            x = F.scaled_dot_product_attention(
                q, k, v, attn_mask=attn_mask, dropout_p=self.attn_drop.p if self.training else 0.0
            )
        else:
            attn = (q * self.scale) @ k.transpose(-2, -1)  # QK^T / sqrt(d): (128, 3, 49, 32) @ (128, 3, 32, 49) -> (128, 3, 49, 49)
            attn = attn + self.relative_position_bias()  # Eq.4: + B, broadcast over windows
            if mask is not None:  # SW-MSA: keep tokens rolled in from the far side apart
                nW = mask.shape[0]  # 64
                attn = attn.view(-1, nW, self.num_heads, N, N) + mask.unsqueeze(1).unsqueeze(0)  # (2, 64, 3, 49, 49)
                attn = attn.view(-1, self.num_heads, N, N)  # -> (128, 3, 49, 49)
            attn = attn.softmax(dim=-1)  # SoftMax: each query's row sums to 1 (masked keys get exactly 0)
            attn = self.attn_drop(attn)
            x = attn @ v  # ... V: (128, 3, 49, 49) @ (128, 3, 49, 32) -> (128, 3, 49, 32)

        x = x.transpose(1, 2).reshape(B_, N, -1)  # merge the heads: -> (128, 49, 3, 32) -> (128, 49, 96)
        return self.proj_drop(self.proj(x))  # (128, 49, 96)


class SwinTransformerBlock(nn.Module):
    """One block of Eq.3: (S)W-MSA with LN and residual, then MLP with LN and residual, on a (B, H, W, C) map.

    shift_size 0 gives W-MSA (regular windows); shift_size M/2 gives SW-MSA: the map is rolled
    up and left by M/2 before the windows are cut, so each new window straddles four old
    ones, and rolled back afterwards. A stage alternates the two.
    """

    def __init__(
        self,
        dim,
        input_resolution,
        num_heads=4,
        head_dim=None,
        window_size=7,
        shift_size=0,
        mlp_ratio=4.0,
        qkv_bias=True,
        proj_drop=0.0,
        attn_drop=0.0,
        drop_path=0.0,
    ):
        super().__init__()
        self.dim = dim
        self.input_resolution = _pair(input_resolution)  # (H, W) = (56, 56)
        # A map no larger than the window is one window: shrink the window to it and do not shift.
        window_size, shift_size = _pair(window_size), _pair(shift_size)
        self.window_size = tuple(min(r, w) for r, w in zip(self.input_resolution, window_size))
        self.shift_size = tuple(0 if r <= w else s for r, w, s in zip(self.input_resolution, self.window_size, shift_size))
        self.window_area = self.window_size[0] * self.window_size[1]
        self.mlp_ratio = mlp_ratio

        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(
            dim, num_heads, head_dim=head_dim, window_size=self.window_size, qkv_bias=qkv_bias,
            attn_drop=attn_drop, proj_drop=proj_drop,
        )
        self.drop_path1 = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=proj_drop)
        self.drop_path2 = DropPath(drop_path)

        mask = None
        if any(self.shift_size):
            # The mask is cut from the padded map: a size the window does not divide is padded first.
            H, W = (math.ceil(r / w) * w for r, w in zip(self.input_resolution, self.window_size))
            mask = shifted_window_mask(H, W, self.window_size, self.shift_size)
        self.register_buffer("attn_mask", mask, persistent=False)  # (nW, N, N) = (64, 49, 49), or None

    def _attn(self, x: torch.Tensor) -> torch.Tensor:
        """W-MSA or SW-MSA on a (B, H, W, C) map, windows cut and put back."""
        B, H, W, C = x.shape  # (2, 56, 56, 96)
        shifted = any(self.shift_size)
        if shifted:  # cyclic shift: roll up and left by M/2 = 3, what falls off comes back on the far side
            x = torch.roll(x, shifts=(-self.shift_size[0], -self.shift_size[1]), dims=(1, 2))

        # A map the window does not divide is padded at the bottom and right (a 24x24 map and M=7 -> 28x28).
        pad_h = (self.window_size[0] - H % self.window_size[0]) % self.window_size[0]
        pad_w = (self.window_size[1] - W % self.window_size[1]) % self.window_size[1]
        if pad_h or pad_w:
            x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
        Hp, Wp = H + pad_h, W + pad_w

        windows = window_partition(x, self.window_size)  # (B*nW, M, M, C) = (128, 7, 7, 96)
        windows = windows.view(-1, self.window_area, C)  # -> (B*nW, N, C) = (128, 49, 96)
        windows = self.attn(windows, mask=self.attn_mask)  # Eq.4 in every window: (128, 49, 96)
        windows = windows.view(-1, self.window_size[0], self.window_size[1], C)  # -> (128, 7, 7, 96)
        x = window_reverse(windows, self.window_size, Hp, Wp)  # -> (B, H, W, C) = (2, 56, 56, 96)
        if pad_h or pad_w:
            x = x[:, :H, :W, :].contiguous()  # drop the padding

        if shifted:  # roll back down and right, so every token returns to its place
            x = torch.roll(x, shifts=self.shift_size, dims=(1, 2))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, H, W, C = x.shape  # (2, 56, 56, 96)
        x = x + self.drop_path1(self._attn(self.norm1(x)))  # Eq.3: z^_l = (S)W-MSA(LN(z_{l-1})) + z_{l-1}
        x = x.reshape(B, -1, C)  # -> (B, HW, C) = (2, 3136, 96): the MLP sees tokens one by one
        x = x + self.drop_path2(self.mlp(self.norm2(x)))  # Eq.3: z_l = MLP(LN(z^_l)) + z^_l
        return x.reshape(B, H, W, C)  # -> (2, 56, 56, 96)


class PatchMerging(nn.Module):
    """Halve the resolution, double the channels: each 2x2 group of tokens becomes one token.

    (B, H, W, C) -> (B, H/2, W/2, 2C): the four neighbours are concatenated (4C), normalised,
    and projected to 2C, the "linear layer" of Section 3.1. The order of the four is the
    paper's code's: top-left, bottom-left, top-right, bottom-right; a checkpoint's weights
    depend on it.
    """

    def __init__(self, dim, out_dim=None):
        super().__init__()
        self.dim = dim
        self.out_dim = out_dim or 2 * dim
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, self.out_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, H, W, C = x.shape  # (2, 56, 56, 96)
        if H % 2 or W % 2:  # an odd side gets a row or column of zeros
            x = F.pad(x, (0, 0, 0, W % 2, 0, H % 2))
            H, W = H + H % 2, W + W % 2
        # The paper's code takes x[:, 0::2, 0::2] (top-left of every 2x2 group), x[:, 1::2, 0::2]
        # (bottom-left), x[:, 0::2, 1::2] (top-right), x[:, 1::2, 1::2] (bottom-right) and concatenates
        # them. One reshape and one permute give the same order with one copy (forward and backward):
        x = x.reshape(B, H // 2, 2, W // 2, 2, C)  # -> (2, 28, 2, 28, 2, 96): group row, row in it, group col, col in it
        x = x.permute(0, 1, 3, 4, 2, 5)  # -> (2, 28, 28, 2, 2, 96): column in the group, then row: TL, BL, TR, BR
        x = x.flatten(3)  # -> (B, H/2, W/2, 4C) = (2, 28, 28, 384): [top-left, bottom-left, top-right, bottom-right]
        return self.reduction(self.norm(x))  # -> (B, H/2, W/2, 2C) = (2, 28, 28, 192)


class SwinTransformerStage(nn.Module):
    """One stage: patch merging (all but the first stage), then `depth` blocks alternating W-MSA and SW-MSA."""

    def __init__(
        self,
        dim,
        out_dim,
        input_resolution,
        depth,
        downsample=True,
        num_heads=4,
        head_dim=None,
        window_size=7,
        mlp_ratio=4.0,
        qkv_bias=True,
        proj_drop=0.0,
        attn_drop=0.0,
        drop_path=0.0,
    ):
        super().__init__()
        self.dim = dim
        self.input_resolution = _pair(input_resolution)
        self.output_resolution = tuple((r + 1) // 2 for r in self.input_resolution) if downsample else self.input_resolution
        self.depth = depth
        window_size = _pair(window_size)
        shift_size = tuple(w // 2 for w in window_size)  # M/2 = 3

        if downsample:
            self.downsample = PatchMerging(dim, out_dim)
        else:
            if dim != out_dim:
                raise ValueError(f"a stage without patch merging keeps its width: dim {dim} != out_dim {out_dim}")
            self.downsample = nn.Identity()
        drop_paths = drop_path if isinstance(drop_path, (list, tuple)) else [drop_path] * depth
        self.blocks = nn.Sequential(
            *[
                SwinTransformerBlock(
                    out_dim, self.output_resolution, num_heads=num_heads, head_dim=head_dim,
                    window_size=window_size,
                    shift_size=0 if i % 2 == 0 else shift_size,  # even blocks W-MSA, odd blocks SW-MSA
                    mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, proj_drop=proj_drop, attn_drop=attn_drop,
                    drop_path=drop_paths[i],
                )
                for i in range(depth)
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.downsample(x)  # stage 2: (2, 56, 56, 96) -> (2, 28, 28, 192)
        return self.blocks(x)  # same shape out as in


class ClassifierHead(nn.Module):
    """Average the tokens of the last map and classify: (B, H, W, C) -> (B, classes)."""

    def __init__(self, in_features, num_classes, drop_rate=0.0):
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
        img_size=224,
        patch_size=4,
        in_chans=3,
        num_classes=1000,
        global_pool="avg",
        embed_dim=96,
        depths=(2, 2, 6, 2),
        num_heads=(3, 6, 12, 24),
        head_dim=None,
        window_size=7,
        mlp_ratio=4.0,
        qkv_bias=True,
        drop_rate=0.0,
        proj_drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.1,
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

    def init_weights(self):
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
