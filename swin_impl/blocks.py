"""The Swin Transformer block: window attention with its relative position bias (Eq.4), and the
block that runs it in regular or shifted windows with LayerNorm, MLP and residuals (Eq.3).

    Eq.3  z^_l   = W-MSA(LN(z_{l-1})) + z_{l-1}     two successive blocks: regular windows,
          z_l    = MLP(LN(z^_l)) + z^_l
          z^_l+1 = SW-MSA(LN(z_l)) + z_l            then windows shifted by M/2
          z_l+1  = MLP(LN(z^_l+1)) + z^_l+1
    Eq.4  Attention(Q, K, V) = SoftMax(QK^T / sqrt(d) + B) V     B: the relative position bias

Parameter names are timm's (`swin_transformer.py`). Shapes in the comments as in
`swin_impl.model`: symbolic, then swin_tiny's first stage on two 224x224 images (B=2, H=W=56,
C=96, M=7: nW = 64 windows of N = 49 tokens, 3 heads of d=32).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from swin_impl.windows import pair, relative_position_index, shifted_window_mask, window_partition, window_reverse
from vit_impl.model import DropPath, Mlp  # the same MLP and stochastic depth as ViT's


class WindowAttention(nn.Module):
    """Multi-head self-attention inside each window, with a relative position bias: Eq.4.

    Attention(Q, K, V) = SoftMax(QK^T / sqrt(d) + B) V, where B[i, j] is a learned number per
    head for the offset between tokens i and j. The explicit path forms the attention matrix
    step by step, as timm's default does; `fused_attn` hands the same sum to
    `scaled_dot_product_attention`, with B (and the shift mask) as its additive mask.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        head_dim: int | None = None,
        window_size: int | tuple[int, int] = 7,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ):
        super().__init__()
        self.dim = dim
        self.window_size = pair(window_size)  # (Mh, Mw) = (7, 7)
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
        dim: int,
        input_resolution: int | tuple[int, int],
        num_heads: int = 4,
        head_dim: int | None = None,
        window_size: int | tuple[int, int] = 7,
        shift_size: int | tuple[int, int] = 0,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        proj_drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
    ):
        super().__init__()
        self.dim = dim
        self.input_resolution = pair(input_resolution)  # (H, W) = (56, 56)
        # A map no larger than the window is one window: shrink the window to it and do not shift.
        window_size, shift_size = pair(window_size), pair(shift_size)
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
