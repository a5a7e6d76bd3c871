"""The usual mistakes in a learner's Swin, for `studykit check` to name a wrong output: each is the
reference (swin_impl) with one mistake in one module's forward or window step, and the guide
exercise's step to look at (`swin_impl.check_spec` lists them per role; importing this module
imports no torch: the forwards run in the checker's subprocess).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn


def _window_attention_forward(m, x, mask=None, *, bias=True, scale=True, softmax_dim=-1):
    B_, N, C = x.shape
    h = m.num_heads
    q, k, v = m.qkv(x).reshape(B_, N, 3, h, -1).permute(2, 0, 3, 1, 4).unbind(0)
    attn = (q * (m.scale if scale else 1.0)) @ k.transpose(-2, -1)
    if bias:
        attn = attn + m.relative_position_bias()
    if mask is not None:
        nW = mask.shape[0]
        attn = (attn.view(-1, nW, h, N, N) + mask[None, :, None]).view(-1, h, N, N)
    x = attn.softmax(dim=softmax_dim) @ v
    return m.proj(x.transpose(1, 2).reshape(B_, N, -1))


def _block_attn(m, x, *, direction=-1, roll_back=True, mask=True):
    """(S)W-MSA of a SwinTransformerBlock on a (B, H, W, C) map whose sides the window divides."""
    import torch

    from swin_impl.windows import window_partition, window_reverse

    B, H, W, C = x.shape
    s = m.shift_size
    if any(s):
        x = torch.roll(x, shifts=(direction * s[0], direction * s[1]), dims=(1, 2))
    windows = window_partition(x, m.window_size).view(-1, m.window_area, C)
    windows = m.attn(windows, mask=m.attn_mask if mask else None)
    x = window_reverse(windows.view(-1, *m.window_size, C), m.window_size, H, W)
    if any(s) and roll_back:
        x = torch.roll(x, shifts=(-direction * s[0], -direction * s[1]), dims=(1, 2))
    return x


def _block_forward(m, x, *, norm="pre"):
    if norm == "pre":
        x = x + m._attn(m.norm1(x))
        return x + m.mlp(m.norm2(x))
    x = m.norm1(x + m._attn(x))
    return m.norm2(x + m.mlp(x))


def _merging_forward(m, x, *, order="TL BL TR BR"):
    B, H, W, C = x.shape
    quarter = {"TL": x[:, 0::2, 0::2], "BL": x[:, 1::2, 0::2], "TR": x[:, 0::2, 1::2], "BR": x[:, 1::2, 1::2]}
    import torch

    return m.reduction(m.norm(torch.cat([quarter[q] for q in order.split()], dim=-1)))


@dataclass(frozen=True)
class Variant:
    """One usual mistake, as the reference with that mistake in one module's forward or window step."""

    name: str
    where: str  # attn (WindowAttention.forward), shift (the block's _attn), block (its forward), merge
    message: str
    step: int | None = None
    options: dict = field(default_factory=dict)

    def apply(self, model: nn.Module) -> None:
        """Give every module of `model` that the mistake is in the mistaken forward or window step (in place)."""
        from swin_impl.blocks import SwinTransformerBlock, WindowAttention
        from swin_impl.stages import PatchMerging

        cls, attr, fwd = {"attn": (WindowAttention, "forward", _window_attention_forward),
                          "shift": (SwinTransformerBlock, "_attn", _block_attn),
                          "block": (SwinTransformerBlock, "forward", _block_forward),
                          "merge": (PatchMerging, "forward", _merging_forward)}[self.where]
        for m in model.modules():
            if isinstance(m, cls):
                setattr(m, attr, lambda x, *a, _m=m, **kw: fwd(_m, x, *a, **kw, **self.options))


_VARIANTS = (
    Variant("no_relative_bias", "attn", "the relative position bias B is never added to the scores: Eq.4 is "
            "SoftMax(QKᵀ/√d + B)V, B[h, i, j] = table[index[i, j], h] (the table is there but unused)", 2,
            {"bias": False}),
    Variant("no_scale", "attn", "the scores q·kᵀ are not scaled by 1/√d (d = head dim = {d})", 3, {"scale": False}),
    Variant("softmax_axis", "attn", "softmax runs over the wrong axis (dim=-2, the queries); each query's row "
            "must sum to 1: softmax(dim=-1)", 3, {"softmax_dim": -2}),
    Variant("shift_no_mask", "shift", "the shifted windows attend without the attention mask: after the roll, "
            "the windows at the bottom and right edges hold tokens from opposite sides of the image, and the "
            "mask (0 within a region, -100 across) must keep them apart (SW-MSA)", 5, {"mask": False}),
    Variant("shift_wrong_direction", "shift", "the map is rolled the wrong way: SW-MSA rolls up and left, "
            "torch.roll(x, shifts=(-{shift}, -{shift}), dims=(1, 2)), and back with +{shift} afterwards; the mask "
            "is made for that direction", 4, {"direction": 1}),
    Variant("shift_not_rolled_back", "shift", "the map is never rolled back after the shifted-window attention: "
            "torch.roll(x, shifts=(+{shift}, +{shift}), dims=(1, 2)) returns every token to its place", 4,
            {"roll_back": False}),
    Variant("shift_wrong_direction_no_mask", "shift", "the map is rolled the wrong way (+{shift} instead of "
            "-{shift}) and attends without the mask", 4, {"direction": 1, "mask": False}),
    Variant("no_roll_back_no_mask", "shift", "the map is never rolled back, and the shifted windows attend "
            "without the mask", 4, {"roll_back": False, "mask": False}),
    Variant("post_norm", "block", "LayerNorm comes after the residual (post-norm); Swin is pre-norm, Eq.3: "
            "ẑ = (S)W-MSA(LN(z)) + z, then z = MLP(LN(ẑ)) + ẑ", None, {"norm": "post"}),
    Variant("merge_order_row_major", "merge", "the four 2 x 2 neighbours are concatenated in the wrong order "
            "(top-left, top-right, bottom-left, bottom-right); the paper's code and every checkpoint use "
            "x0 = x[:, 0::2, 0::2], x1 = x[:, 1::2, 0::2], x2 = x[:, 0::2, 1::2], x3 = x[:, 1::2, 1::2]: "
            "top-left, bottom-left, top-right, bottom-right", 6, {"order": "TL TR BL BR"}),
)

_CONTAINS = {  # which reference modules each role contains
    "PatchEmbed": set(), "WindowAttention": {"attn"}, "SwinTransformerBlock": {"attn", "shift", "block"},
    "PatchMerging": {"merge"}, "SwinTransformer": {"attn", "shift", "block", "merge"},
}


def variants(role: str) -> list[Variant]:
    """The mistakes that can be in a module of this role."""
    return [v for v in _VARIANTS if v.where in _CONTAINS[role]]

