"""The usual mistakes, as variants of the reference: what a wrong output is compared against.

Each Variant re-implements the forward of one vit_impl module with one mistake, using that
module's own weights, so "the reader's output equals this variant's" names the mistake.
Steps refer to the seven attention steps of the learning guide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from vit_impl import model as ref


@dataclass(frozen=True)
class Variant:
    name: str
    where: str  # the reference module it changes: patch, attn, mlp, block, vit
    message: str  # what is wrong, in the reader's terms ({d}, {h} filled in)
    step: int | None = None  # the learning guide's attention step to look at
    options: dict = field(default_factory=dict)


def attention_forward(m, x, *, scale=0.5, softmax_dim=-1, split="3hd", merge="transpose"):
    B, N, C = x.shape
    h, d = m.num_heads, C // m.num_heads
    qkv = m.qkv(x)  # step 1
    if split == "3hd":
        qkv = qkv.reshape(B, N, 3, h, d).permute(2, 0, 3, 1, 4)  # steps 2-3
    else:  # heads before q/k/v: reshape(B, N, h, 3, d)
        qkv = qkv.reshape(B, N, h, 3, d).permute(3, 0, 2, 1, 4)
    q, k, v = qkv.unbind(0)  # step 4
    attn = (q @ k.transpose(-2, -1)) * (d**-scale if scale else 1.0)  # step 5
    attn = attn.softmax(dim=softmax_dim)
    x = attn @ v  # step 6, (B, h, N, d)
    if merge == "transpose":  # step 7
        x = x.transpose(1, 2).reshape(B, N, C)
    elif merge == "reshape":  # no transpose: heads and tokens mixed up
        x = x.reshape(B, N, C)
    else:  # (B, N, d, h): the head index varies fastest
        x = x.permute(0, 2, 3, 1).reshape(B, N, C)
    return m.proj(x)


def mlp_forward(m, x, *, act="gelu"):
    x = m.fc1(x)
    x = {"gelu": F.gelu, "relu": F.relu, "tanh": lambda t: F.gelu(t, approximate="tanh"),
         "none": lambda t: t}[act](x)
    return m.fc2(x)


def block_forward(m, x, *, norm="pre", res_attn=True, res_mlp=True):
    if norm == "pre":
        a = m.attn(m.norm1(x))
        x = x + a if res_attn else a
        f = m.mlp(m.norm2(x))
        return x + f if res_mlp else f
    x = m.norm1(x + m.attn(x) if res_attn else m.attn(x))
    return m.norm2(x + m.mlp(x) if res_mlp else m.mlp(x))


def patch_forward(m, x):
    x = m.proj(x)  # (B, D, h, w)
    B, D = x.shape[:2]
    return x.reshape(B, -1, D)  # the only variant: reshape without the transpose


def vit_forward(m, x, *, pos=True, final_norm=True, pool="token"):
    x = m.patch_embed(x)
    if m.cls_token is not None:
        x = torch.cat([m.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
    if pos:
        x = x + m.pos_embed
    x = m.blocks(x)
    if final_norm:
        x = m.norm(x)
    x = x[:, 0] if pool == "token" else x.mean(dim=1)
    return m.head(x)


_FORWARDS = {
    "attn": (ref.Attention, attention_forward),
    "mlp": (ref.Mlp, mlp_forward),
    "block": (ref.Block, block_forward),
    "patch": (ref.PatchEmbed, patch_forward),
    "vit": (ref.VisionTransformer, vit_forward),
}

VARIANTS = [
    Variant("no_scale", "attn", "the scores q·kᵀ are not scaled by 1/√d (d = head dim = {d}); "
            "without it they grow with d and the softmax saturates", 5, {"scale": 0}),
    Variant("scale_by_d", "attn", "the scores are scaled by 1/d instead of 1/√d (d = {d})", 5, {"scale": 1.0}),
    Variant("softmax_axis", "attn", "softmax runs over the wrong axis (dim=-2, the queries); each row "
            "attn[b, h, i, :] — how much token i attends to every token — must sum to 1: softmax(dim=-1)",
            5, {"softmax_dim": -2}),
    Variant("split_order", "attn", "q, k, v are split in the wrong order: the fused qkv output is "
            "(B, N, 3, heads, d) — reshape(B, N, 3, {h}, {d}), not (B, N, {h}, 3, {d})", 2, {"split": "h3d"}),
    Variant("merge_no_transpose", "attn", "heads merged in the wrong order: (B, heads, N, d) was reshaped "
            "straight to (B, N, C); transpose(1, 2) to (B, N, heads, d) first, then reshape", 7,
            {"merge": "reshape"}),
    Variant("merge_d_h", "attn", "heads merged in the wrong order: the result was laid out as "
            "(B, N, d, heads); it must be (B, N, heads, d) before reshape(B, N, C)", 7, {"merge": "dh"}),
    Variant("relu", "mlp", "the MLP uses ReLU; ViT's MLP uses GELU (nn.GELU())", None, {"act": "relu"}),
    Variant("tanh_gelu", "mlp", "the MLP uses the tanh approximation of GELU; the reference uses the "
            "exact one (nn.GELU(), approximate='none')", None, {"act": "tanh"}),
    Variant("no_act", "mlp", "the MLP has no activation between fc1 and fc2 (it should be GELU)", None,
            {"act": "none"}),
    Variant("post_norm", "block", "LayerNorm comes after the residual (post-norm, as in the original "
            "Transformer); ViT is pre-norm: x = x + attn(norm1(x)), then x = x + mlp(norm2(x)) (Eq.2-3)",
            None, {"norm": "post"}),
    Variant("no_res_attn", "block", "the attention sub-layer has no residual connection: "
            "Eq.2 is z' = MSA(LN(z)) + z", None, {"res_attn": False}),
    Variant("no_res_mlp", "block", "the MLP sub-layer has no residual connection: "
            "Eq.3 is z = MLP(LN(z')) + z'", None, {"res_mlp": False}),
    Variant("no_res", "block", "neither sub-layer has its residual connection (Eq.2-3: ... + z)", None,
            {"res_attn": False, "res_mlp": False}),
    Variant("patch_no_transpose", "patch", "the (B, D, h, w) projection was reshaped straight to (B, N, D), "
            "which mixes channels and positions: flatten(2), then transpose(1, 2)", None, {}),
    Variant("no_pos", "vit", "the position embedding is never added: Eq.1 is "
            "z0 = [x_class; x_p E] + E_pos", None, {"pos": False}),
    Variant("no_final_norm", "vit", "there is no LayerNorm before the head: Eq.4 is y = LN(z_L^0)",
            None, {"final_norm": False}),
    Variant("mean_pool", "vit", "the head reads the mean of all tokens instead of the class token "
            "z_L^0 (Eq.4)", None, {"pool": "mean"}),
]

_CONTAINS = {  # which reference modules each graded module contains
    "PatchEmbed": {"patch"}, "MLP": {"mlp"}, "Attention": {"attn"},
    "Block": {"attn", "mlp", "block"}, "VisionTransformer": {"patch", "attn", "mlp", "block", "vit"},
}


def variants_for(role: str) -> list[Variant]:
    return [v for v in VARIANTS if v.where in _CONTAINS[role]]


def apply(model: torch.nn.Module, variant: Variant) -> None:
    """Give every module of `model` that the variant changes the variant's forward (in place)."""
    cls, fwd = _FORWARDS[variant.where]
    for m in model.modules():
        if isinstance(m, cls):
            m.forward = lambda *a, _m=m, **kw: fwd(_m, a[0], **variant.options)
