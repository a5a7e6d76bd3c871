"""A learner's Swin Transformer pieces, written the paper's-code way (not swin_impl's): tuple window
sizes, separate q, k, v projections, a mask built from slices, the 2 x 2 neighbours sliced and
concatenated. Maps are (B, H, W, C)."""

import torch
from torch import nn


def window_partition(x, ws):
    B, H, W, C = x.shape
    x = x.view(B, H // ws, ws, W // ws, ws, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws * ws, C)


def window_reverse(windows, ws, H, W):
    C = windows.shape[-1]
    x = windows.view(-1, H // ws, W // ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, H, W, C)


class PatchEmbed(nn.Module):
    def __init__(self, img_size=224, patch_size=4, in_chans=3, embed_dim=96):
        super().__init__()
        self.img_size = img_size
        self.proj = nn.Conv2d(in_chans, embed_dim, patch_size, patch_size)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        return self.norm(self.proj(x).permute(0, 2, 3, 1))


class WindowAttention(nn.Module):
    def __init__(self, dim, window_size, num_heads):
        super().__init__()
        self.window_size = window_size  # (Wh, Ww)
        Wh, Ww = window_size
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * Wh - 1) * (2 * Ww - 1), num_heads))
        coords = torch.stack(torch.meshgrid(torch.arange(Wh), torch.arange(Ww), indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
        rel[:, :, 0] += Wh - 1
        rel[:, :, 1] += Ww - 1
        rel[:, :, 0] *= 2 * Ww - 1
        self.register_buffer("relative_position_index", rel.sum(-1))
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def bias(self):
        N = self.relative_position_index.shape[0]
        b = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(N, N, -1)
        return b.permute(2, 0, 1)

    def forward(self, x, mask=None):
        B_, N, C = x.shape
        h = self.num_heads
        q, k, v = (f(x).view(B_, N, h, C // h).transpose(1, 2) for f in (self.q, self.k, self.v))
        attn = q @ k.transpose(-2, -1) * self.scale + self.bias().unsqueeze(0)
        if mask is not None:
            nW = mask.shape[0]
            attn = attn.view(B_ // nW, nW, h, N, N) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(B_, h, N, N)
        out = attn.softmax(-1) @ v
        return self.proj(out.transpose(1, 2).reshape(B_, N, C))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class SwinTransformerBlock(nn.Module):
    def __init__(self, dim, input_resolution, num_heads, window_size=7, shift_size=0, mlp_ratio=4.0):
        super().__init__()
        self.input_resolution = input_resolution
        self.window_size, self.shift_size = window_size, shift_size
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, (window_size, window_size), num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        mask = None
        if shift_size > 0:
            H, W = input_resolution
            img = torch.zeros(1, H, W, 1)
            cnt = 0
            for hs in (slice(0, -window_size), slice(-window_size, -shift_size), slice(-shift_size, None)):
                for wsl in (slice(0, -window_size), slice(-window_size, -shift_size), slice(-shift_size, None)):
                    img[:, hs, wsl, :] = cnt
                    cnt += 1
            w = window_partition(img, window_size).squeeze(-1)
            mask = (w.unsqueeze(1) - w.unsqueeze(2)).ne(0).float() * -100.0
        self.register_buffer("attn_mask", mask)

    def forward(self, x):
        B, H, W, C = x.shape
        shortcut = x
        x = self.norm1(x)
        if self.shift_size > 0:
            x = torch.roll(x, (-self.shift_size, -self.shift_size), (1, 2))
        x = self.attn(window_partition(x, self.window_size), mask=self.attn_mask)
        x = window_reverse(x, self.window_size, H, W)
        if self.shift_size > 0:
            x = torch.roll(x, (self.shift_size, self.shift_size), (1, 2))
        x = shortcut + x
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x):
        x0 = x[:, 0::2, 0::2]
        x1 = x[:, 1::2, 0::2]
        x2 = x[:, 0::2, 1::2]
        x3 = x[:, 1::2, 1::2]
        return self.reduction(self.norm(torch.cat([x0, x1, x2, x3], -1)))


class BasicLayer(nn.Module):
    """One stage as the paper's code has it: the blocks, then the patch merging that ends the stage."""

    def __init__(self, dim, input_resolution, depth, num_heads, window_size, downsample):
        super().__init__()
        if min(input_resolution) <= window_size:  # a map no larger than a window: one window, no shift
            window_size = min(input_resolution)
        self.blocks = nn.ModuleList([
            SwinTransformerBlock(dim, input_resolution, num_heads, window_size,
                                 0 if i % 2 == 0 or min(input_resolution) <= window_size else window_size // 2)
            for i in range(depth)])
        self.downsample = PatchMerging(dim) if downsample else None

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.downsample(x) if self.downsample is not None else x


class SwinTransformer(nn.Module):
    def __init__(self, img_size=224, patch_size=4, in_chans=3, num_classes=1000, embed_dim=96,
                 depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), window_size=7):
        super().__init__()
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        grid = img_size // patch_size
        self.layers = nn.ModuleList([
            BasicLayer(embed_dim * 2 ** i, (grid >> i, grid >> i), depth, heads, window_size,
                       downsample=i < len(depths) - 1)
            for i, (depth, heads) in enumerate(zip(depths, num_heads))])
        width = embed_dim * 2 ** (len(depths) - 1)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm(x).mean(dim=(1, 2)))
