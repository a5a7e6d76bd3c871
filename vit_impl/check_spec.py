"""What `studykit check` knows of ViT: the roles a learner writes, how to size and build each,
how its weights line up with vit_impl's, and the usual mistakes.

The contract is `studykit.check.spec.CheckSpec`; the registry names this module's `SPEC` by a
"module:attr" string. Importing it imports no torch: only building, reading weights and the
mistakes' forwards do, and they run in the checker's subprocess.

How the learner's hyper-parameters are found: each constructor keyword is recognised by its name
(`embed_dim`, `dim`, `d_model`, `num_heads`, `heads`, `patch_size`, ...; anything with `drop` in
it gets 0) and given a small value (dim 32, 4 heads, patch 4, image 16, MLP 128, depth 2, 10
classes). Then the built module's weights are read to learn what it really is (a hard-coded 768
wins over the 32 we passed): dimensions from the Linear/Conv/LayerNorm shapes, depth from the
number of MLPs, the image size from the position embedding. The number of heads cannot be read
from weights: without a heads keyword each divisor of the dimension is tried.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

ROLES = ("PatchEmbed", "MLP", "Attention", "Block", "VisionTransformer")

_KEYWORDS = {
    "img_size": "img_size image_size img image input_size resolution img_dim image_dim img_res",
    "patch_size": "patch_size patch patch_len p patch_res",
    "in_chans": "in_chans in_channels channels in_ch num_channels n_channels in_c c_in chans",
    "dim": "embed_dim dim d_model emb_dim embedding_dim d width in_features in_dim n_embd model_dim "
           "features out_features out_dim embed_size emb_size",
    "num_heads": "num_heads heads n_heads nhead n_head head_num h num_head",
    "hidden": "hidden_features mlp_dim mlp_hidden_dim hidden d_ff ff_dim dim_feedforward ffn_dim mlp_size",
    "mlp_ratio": "mlp_ratio ratio expansion ff_mult expansion_factor",
    "depth": "depth num_layers n_layers layers num_blocks n_blocks n_layer",
    "num_classes": "num_classes n_classes classes num_labels n_class num_class",
    "qkv_bias": "qkv_bias bias use_bias",
    "head_dim": "head_dim dim_head",
}
_CONCEPT_OF = {name: c for c, names in _KEYWORDS.items() for name in names.split()}

_STEPS = {  # the learning guide's seven attention steps
    1: "生成 QKV / project to qkv", 2: "重塑 / reshape to (B, N, 3, heads, d)",
    3: "转置 / permute to (3, B, heads, N, d)", 4: "分离 Q, K, V / split q, k, v",
    5: "计算注意力 / scores and softmax", 6: "加权求和 / attn @ v", 7: "合并多头 / merge the heads",
}


# --- the mistakes: each re-implements one vit_impl module's forward with one mistake ----------------

def _attention_forward(m, x, *, scale=0.5, softmax_dim=-1, split="3hd", merge="transpose"):
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


def _mlp_forward(m, x, *, act="gelu"):
    import torch.nn.functional as F

    x = m.fc1(x)
    x = {"gelu": F.gelu, "relu": F.relu, "tanh": lambda t: F.gelu(t, approximate="tanh"),
         "none": lambda t: t}[act](x)
    return m.fc2(x)


def _block_forward(m, x, *, norm="pre", res_attn=True, res_mlp=True):
    if norm == "pre":
        a = m.attn(m.norm1(x))
        x = x + a if res_attn else a
        f = m.mlp(m.norm2(x))
        return x + f if res_mlp else f
    x = m.norm1(x + m.attn(x) if res_attn else m.attn(x))
    return m.norm2(x + m.mlp(x) if res_mlp else m.mlp(x))


def _patch_forward(m, x):
    x = m.proj(x)  # (B, D, h, w)
    B, D = x.shape[:2]
    return x.reshape(B, -1, D)  # the only variant: reshape without the transpose


def _vit_forward(m, x, *, pos=True, final_norm=True, pool="token"):
    import torch

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


_FORWARDS = {  # where -> (vit_impl.model class name, the forward with options)
    "attn": ("Attention", _attention_forward), "mlp": ("Mlp", _mlp_forward), "block": ("Block", _block_forward),
    "patch": ("PatchEmbed", _patch_forward), "vit": ("VisionTransformer", _vit_forward),
}


@dataclass(frozen=True)
class Variant:
    """One usual mistake, as the reference with that mistake in one module's forward."""

    name: str
    where: str  # the reference module it changes: patch, attn, mlp, block, vit
    message: str  # what is wrong, in the learner's terms ({d}, {h} filled in)
    step: int | None = None  # the learning guide's attention step to look at
    options: dict = field(default_factory=dict)

    def apply(self, model) -> None:
        """Give every module of `model` that the mistake is in the mistaken forward (in place)."""
        from vit_impl import model as ref

        name, fwd = _FORWARDS[self.where]
        cls = getattr(ref, name)
        for m in model.modules():
            if isinstance(m, cls):
                m.forward = lambda *a, _m=m, **kw: fwd(_m, a[0], **self.options)


_VARIANTS = (
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
)

_CONTAINS = {  # which reference modules each role contains
    "PatchEmbed": {"patch"}, "MLP": {"mlp"}, "Attention": {"attn"},
    "Block": {"attn", "mlp", "block"}, "VisionTransformer": {"patch", "attn", "mlp", "block", "vit"},
}


# --- the spec ------------------------------------------------------------------------------------

class ViTCheck:
    """`studykit.check.spec.CheckSpec` for arXiv 2010.11929."""

    roles = {
        "PatchEmbed": frozenset({"patchembed", "patchembedding", "patch_embed", "patchembeddings"}),
        "MLP": frozenset({"mlp", "feedforward", "ffn"}),
        "Attention": frozenset({"attention", "multiheadattention", "multiheadselfattention", "selfattention",
                                "msa", "mhsa"}),
        "Block": frozenset({"block", "transformerblock", "encoderblock", "transformerencoderblock",
                            "transformerlayer"}),
        "VisionTransformer": frozenset({"visiontransformer", "vit"}),
    }
    small = dict(img_size=16, patch_size=4, in_chans=3, dim=32, num_heads=4, hidden=128, mlp_ratio=4.0,
                 depth=2, num_classes=10, qkv_bias=True, head_dim=8, drop=0.0)
    reported = {
        "PatchEmbed": ("img_size", "patch_size", "in_chans", "dim"), "MLP": ("dim", "hidden"),
        "Attention": ("dim", "heads"), "Block": ("dim", "heads", "hidden"),
        "VisionTransformer": ("img_size", "patch_size", "in_chans", "dim", "depth", "heads", "hidden",
                              "num_classes"),
    }
    exercise = "Attention"
    steps = _STEPS

    def concept(self, keyword: str, keywords: list[str]) -> str | None:
        n = keyword.lower()
        if "drop" in n:
            return "drop"
        if n in ("hidden_dim", "hidden_size"):  # the model width, unless something else already is
            others = (o for o in keywords if o != keyword)
            return "hidden" if any(_CONCEPT_OF.get(o.lower()) == "dim" for o in others) else "dim"
        return _CONCEPT_OF.get(n)

    def infer(self, role: str, units: list, given: set[str], model) -> dict:
        hp = {k: self.small[k] for k in ("img_size", "patch_size", "in_chans", "dim", "hidden", "depth",
                                         "num_classes")}
        lin = [u for u in units if u.kind == "linear"]
        norms = [u for u in units if u.kind == "norm"]
        conv = next((u for u in units if u.kind == "conv"), None)
        if role in ("PatchEmbed", "VisionTransformer"):
            if conv is not None:
                hp["dim"], hp["in_chans"], hp["patch_size"] = conv.weight.shape[:3]
            elif lin:
                hp["dim"], k = lin[0].weight.shape
                if "patch_size" in given:
                    hp["in_chans"] = k // hp["patch_size"] ** 2
                else:
                    hp["patch_size"] = math.isqrt(k // hp["in_chans"])
        if role == "MLP" and lin:
            hp["hidden"], hp["dim"] = lin[0].weight.shape
        if role == "Attention" and lin:
            hp["dim"] = lin[0].weight.shape[1]
        if role in ("Block", "VisionTransformer") and norms:
            _read_block_sizes(role, hp, lin, norms[0].weight.shape[0])
        if role == "VisionTransformer" and "img_size" not in given:
            D = hp["dim"]
            big = [u for u in units if u.kind == "param" and u.weight.numel() > D]
            if big:
                n = big[0].weight.numel() // D
                grid = math.isqrt(n - 1) if math.isqrt(n - 1) ** 2 == n - 1 else math.isqrt(n)
                hp["img_size"] = grid * hp["patch_size"]
        if role == "PatchEmbed" and "img_size" not in given:
            size = getattr(model, "img_size", getattr(model, "image_size", None))
            hp["img_size"] = size[0] if isinstance(size, (tuple, list)) else size or 4 * hp["patch_size"]
        D = hp["dim"]
        if "num_heads" in given:
            hp["heads"] = [self.small["num_heads"]]
        elif "head_dim" in given:
            hp["heads"] = [D // self.small["head_dim"]]
        else:
            hp["heads"] = [h for h in (12, 8, 16, 6, 4, 3, 2, 1) if D % h == 0]
        grid = hp["img_size"] // hp["patch_size"]
        hp["tokens"] = grid * grid + 1 if role == "VisionTransformer" else 17
        return hp

    def categories(self, role: str, hp: dict) -> list[tuple]:
        D, H, C, P, N = hp["dim"], hp["hidden"], hp["in_chans"], hp["patch_size"], hp["tokens"] - 1
        rules = []
        if role in ("PatchEmbed", "VisionTransformer"):
            rules += [("conv", (D, C, P, P), "patch"), ("linear", (D, C * P * P), "patch", 1)]
        rules += [("linear", (3 * D, D), "qkv"), ("linear", (D, D), "dd"), ("linear", (H, D), "fc1"),
                  ("linear", (D, H), "fc2")]
        if role == "VisionTransformer":
            rules.append(("linear", (hp["num_classes"], D), "head"))
        rules += [("norm", (D,), "norm"), ("param", (D,), "cls"), ("param", ((N + 1) * D,), "pos"),
                  ("param", (N * D,), "pos_nocls")]
        return rules

    def describe(self, role: str, hp: dict) -> str:
        return f"dim {hp['dim']}, MLP {hp['hidden']}"

    def layout(self, role: str, hp: dict) -> list[tuple]:
        D, H, C, P = hp["dim"], hp["hidden"], hp["in_chans"], hp["patch_size"]
        patch = ("patch", "proj", f"patch projection (Conv2d {C} -> {D}, kernel = stride = {P}, "
                                  f"or a Linear {C * P * P} -> {D})", (D, C, P))
        attention = [("qkv", "qkv", D), ("linear", "proj", "dd", f"output projection (a Linear {D} -> {D})")]
        mlp = [("linear", "fc1", "fc1", f"first MLP Linear ({D} -> {H})"),
               ("linear", "fc2", "fc2", f"second MLP Linear ({H} -> {D})")]
        block = [("norm", "norm1", "LayerNorm before the attention (norm1)"), *_under("attn.", attention),
                 ("norm", "norm2", "LayerNorm before the MLP (norm2)"), *_under("mlp.", mlp)]
        if role == "PatchEmbed":
            return [patch]
        if role == "MLP":
            return mlp
        if role == "Attention":
            return attention
        if role == "Block":
            return block
        return [
            *_under("patch_embed.", [patch]),
            ("param", "cls_token", "cls", f"missing class token: Eq.1 prepends a learned x_class, an nn.Parameter "
                                          f"of shape (1, 1, {D}), to the patch tokens; the head reads it (Eq.4)"),
            ("param", "pos_embed", "pos", f"missing position embedding: Eq.1 adds E_pos, an nn.Parameter of shape "
                                          f"(1, {hp['tokens']}, {D}) (one per patch plus the class token)"),
            ("last", "norm"),  # the final norm, wherever it was registered
            *[op for i in range(hp["depth"]) for op in _under(f"blocks.{i}.", block)],
            ("norm", "norm", "final LayerNorm (Eq.4)"),
            ("linear", "head", "head", f"classification head (Linear {D} -> {hp['num_classes']})"),
        ]

    def build(self, role: str, hp: dict, heads: int, qkv_bias: bool):
        from vit_impl import model as ref

        D = hp["dim"]
        if role == "PatchEmbed":
            return ref.PatchEmbed(hp["img_size"], hp["patch_size"], hp["in_chans"], D)
        if role == "MLP":
            return ref.Mlp(D, hp["hidden"])
        if role == "Attention":
            return ref.Attention(D, heads, qkv_bias=qkv_bias)
        if role == "Block":
            return ref.Block(D, heads, mlp_ratio=hp["hidden"] / D, qkv_bias=qkv_bias)
        return ref.VisionTransformer(img_size=hp["img_size"], patch_size=hp["patch_size"], in_chans=hp["in_chans"],
                                     num_classes=hp["num_classes"], embed_dim=D, depth=hp["depth"], num_heads=heads,
                                     mlp_ratio=hp["hidden"] / D, qkv_bias=qkv_bias)

    def input_shape(self, role: str, hp: dict, batch: int) -> tuple[int, ...]:
        if role in ("PatchEmbed", "VisionTransformer"):
            return (batch, hp["in_chans"], hp["img_size"], hp["img_size"])
        return (batch, hp["tokens"], hp["dim"])

    def shape_hint(self, role: str, got: tuple, want: tuple, hp: dict) -> str:
        B, D = want[0], hp["dim"]
        g = hp["img_size"] // hp["patch_size"]
        if role == "PatchEmbed" and got == (B, D, g * g):
            return " — tokens and channels are swapped: transpose(1, 2) after flatten(2)"
        if role == "PatchEmbed" and got == (B, D, g, g):
            return " — the patch grid is not flattened into tokens: .flatten(2).transpose(1, 2)"
        if role == "VisionTransformer" and got == (B, hp["tokens"], D):
            return " — the head is missing, or the class token is not taken out (x[:, 0])"
        return ""

    def variants(self, role: str) -> list[Variant]:
        return [v for v in _VARIANTS if v.where in _CONTAINS[role]]


def _under(prefix: str, ops: list[tuple]) -> list[tuple]:
    """The layout `ops` with their reference keys inside the sub-module `prefix`."""
    return [(op[0], prefix + op[1], *op[2:]) for op in ops]


def _read_block_sizes(role: str, hp: dict, lin: list, D: int) -> None:
    """Width from the first norm; MLP width, depth and classes from the Linears around it."""
    hp["dim"] = D
    fc1 = [u for u in lin if u.weight.shape[1] == D and u.weight.shape[0] not in (D, 3 * D)
           and any(v.weight.shape == (D, u.weight.shape[0]) for v in lin)]
    if not fc1:
        return
    hp["hidden"] = fc1[0].weight.shape[0]
    if role == "VisionTransformer":
        hp["depth"] = len(fc1)
        heads = [u for u in lin if u.weight.shape[1] == D and u.weight.shape[0] not in (D, 3 * D, hp["hidden"])]
        if heads:
            hp["num_classes"] = heads[-1].weight.shape[0]


SPEC = ViTCheck()
