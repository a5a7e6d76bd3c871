"""Where a ViT looks: the attention matrices of every block, attention rollout, and a picture of both.

Attention rollout is from Abnar & Zuidema, "Quantifying Attention Flow in Transformers"
(ACL 2020, arXiv 2005.00928).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


def attention_maps(model: nn.Module, images: torch.Tensor) -> list[torch.Tensor]:
    """One (B, heads, N, N) attention matrix per block, row i = how token i attends to every token j.

    As timm's utils/attention_extract.py: the explicit attention path (the fused kernel never forms
    the matrix) with a forward hook on each block's `attn_drop`, whose input is softmax(q k^T / sqrt(d)).
    """
    maps: list[torch.Tensor] = []
    attns = [block.attn for block in model.blocks]
    fused = [attn.fused_attn for attn in attns]
    handles = [attn.attn_drop.register_forward_hook(lambda _m, args, _out: maps.append(args[0].detach()))
               for attn in attns]
    was_training = model.training
    try:
        for attn in attns:
            attn.fused_attn = False
        model.eval()
        with torch.no_grad():
            model(images)
    finally:
        for attn, was_fused in zip(attns, fused):
            attn.fused_attn = was_fused
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return maps


def attention_rollout(maps: list[torch.Tensor], layer: int | None = None, discard_ratio: float = 0.0) -> torch.Tensor:
    """Attention rollout through blocks 0..layer (default: all): (B, N, N), row i = token i's mix of inputs.

    Per block: average the heads, add the identity for the residual connection and renormalise the
    rows, A_l = (mean_h W_att + I) / 2; then multiply through: R = A_layer ... A_1 A_0.
    `discard_ratio` > 0 first zeroes that fraction of the smallest head-averaged weights of each
    block (the vit-explain variant, not in the paper): weak, diffuse attention stops diluting the flow.
    """
    maps = maps if layer is None else maps[: layer + 1]
    if not maps:
        raise ValueError("no attention maps to roll out")
    if not 0.0 <= discard_ratio < 1.0:
        raise ValueError(f"discard_ratio must be in [0, 1), got {discard_ratio}")
    rollout = None
    for attn in maps:
        a = attn.float().mean(dim=1)  # (B, heads, N, N) -> (B, N, N)
        if discard_ratio:
            flat = a.flatten(1)  # (B, N*N)
            threshold = flat.kthvalue(max(1, int(flat.shape[1] * discard_ratio)), dim=1).values  # (B,)
            a = torch.where(a < threshold[:, None, None], torch.zeros_like(a), a)
        a = a + torch.eye(a.shape[-1], device=a.device)  # the residual: a token also keeps itself
        a = a / a.sum(dim=-1, keepdim=True)  # rows sum to 1 again
        rollout = a if rollout is None else a @ rollout  # (B, N, N)
    return rollout


def cls_mask(rollout: torch.Tensor, grid: tuple[int, int], num_prefix_tokens: int = 1) -> torch.Tensor:
    """The class token's row of the rollout over the patches, (B, h, w), summing to 1 per image."""
    mask = rollout[:, 0, num_prefix_tokens:]  # (B, N) -> (B, h*w): what the class token gathered, per patch
    total = mask.sum(dim=-1, keepdim=True)
    # A class token that gathered nothing from the patches (possible with discard_ratio) says nothing: uniform.
    mask = torch.where(total > 0, mask / total.clamp_min(1e-30), torch.full_like(mask, 1 / mask.shape[-1]))
    return mask.reshape(-1, *grid)


def head_maps(attn: torch.Tensor, grid: tuple[int, int], num_prefix_tokens: int = 1) -> torch.Tensor:
    """Each head's attention from the class token to the patches: (B, heads, N, N) -> (B, heads, h, w)."""
    return attn[:, :, 0, num_prefix_tokens:].reshape(*attn.shape[:2], *grid)


def mass_in_box(mask: torch.Tensor, boxes: torch.Tensor, img_size: int) -> torch.Tensor:
    """Fraction of each (h, w) mask's mass inside its pixel box (x0, y0, x1, y1): (B,).

    A patch's mass is spread evenly over its pixels, so a patch half inside the box counts half.
    """
    B, h, w = mask.shape
    pixels = F.interpolate(mask[:, None], size=(img_size, img_size), mode="nearest")[:, 0]  # (B, H, W)
    pixels = pixels / pixels.sum(dim=(1, 2), keepdim=True)
    ys = torch.arange(img_size)[None, :, None]
    xs = torch.arange(img_size)[None, None, :]
    x0, y0, x1, y1 = (boxes[:, i, None, None] for i in range(4))
    inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)  # (B, H, W)
    return (pixels * inside).sum(dim=(1, 2))


def explain(model: nn.Module, image, mean, std, layer: int | None = None,
            discard_ratio: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """For a PIL RGB image: its rollout mask (h, w) through block `layer` (default: the last), and
    the class token's attention in each head of that block (heads, h, w)."""
    import numpy as np

    size = model.patch_embed.img_size
    resized = image.resize((size[1], size[0]), resample=3)  # bicubic, to the model's (H, W)
    pixels = torch.from_numpy(np.asarray(resized, dtype=np.float32) / 255).permute(2, 0, 1)  # (3, H, W)
    x = ((pixels - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1))[None]  # (1, 3, H, W)
    maps = attention_maps(model, x)
    layer = len(maps) - 1 if layer is None else layer
    grid, prefix = model.patch_embed.grid_size, model.num_prefix_tokens
    mask = cls_mask(attention_rollout(maps, layer, discard_ratio), grid, prefix)[0]
    return mask, head_maps(maps[layer], grid, prefix)[0]


def draw_attention(image, rollout_mask, heads, path: str | Path, title: str = "", layer: int | None = None) -> None:
    """One PNG: the image, the rollout mask over it, and the class token's attention in every head.

    `image` (H, W, 3) floats in 0..1; `rollout_mask` (h, w); `heads` (heads, h, w).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    image = np.asarray(image)
    H, W = image.shape[:2]
    n_heads = heads.shape[0]
    cols = min(n_heads, 6)
    head_rows = -(-n_heads // cols)
    fig = plt.figure(figsize=(2.2 * max(cols, 3), 2.6 * (1 + head_rows) + 0.4))
    grid = fig.add_gridspec(1 + head_rows, max(cols, 3))
    up = _upsample(rollout_mask, H, W)

    ax = fig.add_subplot(grid[0, 0])
    ax.imshow(image)
    ax.set_title("image", fontsize=9)
    ax = fig.add_subplot(grid[0, 1])
    ax.imshow(up, cmap="inferno")
    ax.set_title("rollout mask", fontsize=9)
    ax = fig.add_subplot(grid[0, 2])
    ax.imshow(image)
    ax.imshow(up, cmap="inferno", alpha=0.6, extent=(-0.5, W - 0.5, H - 0.5, -0.5))
    ax.set_title("rollout over the image", fontsize=9)
    which = "last block" if layer is None else f"block {layer}"
    for i in range(n_heads):
        ax = fig.add_subplot(grid[1 + i // cols, i % cols])
        ax.imshow(_upsample(heads[i], H, W), cmap="viridis")
        ax.set_title(f"head {i} ({which})", fontsize=8)
    for ax in fig.axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _upsample(mask, H: int, W: int):
    """A (h, w) map to (H, W) by nearest neighbour: each patch stays a visible square."""
    m = torch.as_tensor(mask, dtype=torch.float32)[None, None]
    return F.interpolate(m, size=(H, W), mode="nearest")[0, 0].numpy()
