"""What `studykit check` knows of Swin: the roles a learner writes, how to size and build each,
how its weights line up with swin_impl's; the usual mistakes are `swin_impl.check_variants` (the
contract is `studykit.check.spec.CheckSpec`; importing this module imports no torch).

Small sizes: dim 32, 2 heads, windows of M = 4 on an 8 x 8 map (4 windows, so a shift by
M/2 = 2 mixes them), patches of 4 on a 32 x 32 image; the whole model has two stages of two
blocks (2 and 4 heads, 8 x 8 then 4 x 4 tokens) and 10 classes. Maps travel as (B, H, W, C), as in
swin_impl and timm; a block or patch merging that takes the paper's code's tokens (B, H*W, C)
is checked in that layout. A window size, shift or resolution is given as a number that also reads as
a pair (`M`, `M[0]`, `Mh, Mw = M`), since learners write either, as the paper's code and timm do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from swin_impl.check_variants import Variant, variants

if TYPE_CHECKING:
    from torch import nn

_KEYWORDS = {
    "img_size": "img_size image_size img resolution",
    "patch_size": "patch_size patch p",
    "in_chans": "in_chans in_channels channels in_ch num_channels",
    "dim": "embed_dim dim d_model emb_dim embedding_dim in_dim channels_dim c",
    "num_heads": "num_heads heads n_heads nhead n_head",
    "depths": "depths depth_per_stage stage_depths layers",
    "num_classes": "num_classes n_classes classes num_labels",
    "window_size": "window_size window ws m win_size",
    "shift_size": "shift_size shift",
    "input_resolution": "input_resolution resolution_in feat_size feature_size grid_size hw",
    "mlp_ratio": "mlp_ratio ratio expansion",
    "hidden": "hidden_features mlp_dim mlp_hidden_dim hidden d_ff",
    "qkv_bias": "qkv_bias bias use_bias",
    "head_dim": "head_dim dim_head",
    "norm_layer": "norm_layer",
    "act_layer": "act_layer",
}
_CONCEPT_OF = {name: c for c, names in _KEYWORDS.items() for name in names.split()}

_STEPS = {  # the learning guide's Swin exercise
    1: "窗口划分 / window_partition (B, H, W, C) -> (B*nW, M*M, C)",
    2: "相对位置偏置 / relative position bias table and index",
    3: "窗口注意力 / softmax(q·kᵀ/√d + B) v",
    4: "循环移位 / roll by -M/2, attend, roll back by +M/2",
    5: "注意力掩码 / the mask of the shifted windows",
    6: "块合并 / PatchMerging: x0, x1, x2, x3 -> LayerNorm -> Linear 4C -> 2C",
}


class _Side(int):
    """A size that reads as M and as (M, M): `2 * M - 1`, `M[0]`, `Mh, Mw = M` all work."""

    def __getitem__(self, i):
        return int(self) if i in (0, 1, -1, -2) else (int(self), int(self))[i]

    def __iter__(self):
        return iter((int(self), int(self)))

    def __len__(self):
        return 2


# --- the spec ------------------------------------------------------------------------------------

class SwinCheck:
    """`studykit.check.spec.CheckSpec` for arXiv 2103.14030."""

    roles = {
        "PatchEmbed": frozenset({"patchembed", "patchembedding", "patch_embed", "patchembeddings"}),
        "WindowAttention": frozenset({"windowattention", "windowmsa", "wmsa", "windowmultiheadattention",
                                      "windowselfattention"}),
        "SwinTransformerBlock": frozenset({"swintransformerblock", "swinblock", "swintransformerlayer"}),
        "PatchMerging": frozenset({"patchmerging", "patchmerge", "mergepatches"}),
        "SwinTransformer": frozenset({"swintransformer", "swin"}),
    }
    small = dict(img_size=_Side(32), patch_size=_Side(4), in_chans=3, dim=32, num_heads=2, window_size=_Side(4),
                 shift_size=_Side(2), input_resolution=_Side(8), mlp_ratio=4.0, hidden=128, qkv_bias=True,
                 head_dim=16, drop=0.0, depths=(2, 2), stage_heads=(2, 4), num_classes=10)
    reported = {
        "PatchEmbed": ("img_size", "patch_size", "in_chans", "dim"),
        "WindowAttention": ("dim", "heads", "window"),
        "SwinTransformerBlock": ("dim", "heads", "window", "shift", "resolution", "hidden"),
        "PatchMerging": ("dim", "resolution"),
        "SwinTransformer": ("img_size", "patch_size", "dim", "depths", "stage_heads", "window", "num_classes"),
    }
    exercise = "Swin"
    steps = _STEPS

    def concept(self, keyword: str, keywords: list[str]) -> str | None:
        n = keyword.lower()
        if "drop" in n:
            return "drop"
        if n in ("norm_layer", "act_layer"):
            return None  # their defaults (LayerNorm, GELU) are the reference's
        concept = _CONCEPT_OF.get(n)
        if concept == "num_heads" and any(_CONCEPT_OF.get(k.lower()) == "depths" for k in keywords):
            return "stage_heads"  # a whole model's heads: one count per stage
        return concept

    def infer(self, role: str, units: list, given: set[str], model: nn.Module) -> dict:
        hp = {"img_size": 32, "patch_size": 4, "in_chans": 3, "dim": 32, "hidden": 128,
              "window": _size(getattr(model, "window_size", None), 4),
              "shift": _size(getattr(model, "shift_size", None), 2 if "shift_size" in given else 0),
              "resolution": _size(getattr(model, "input_resolution", None), 8),
              "depths": self.small["depths"], "stage_heads": self.small["stage_heads"],
              "num_classes": self.small["num_classes"]}
        lin = [u for u in units if u.kind == "linear"]
        norms = [u for u in units if u.kind == "norm"]
        conv = next((u for u in units if u.kind == "conv"), None)
        if role in ("PatchEmbed", "SwinTransformer"):
            if conv is not None:
                hp["dim"], hp["in_chans"], hp["patch_size"] = conv.weight.shape[:3]
            hp["img_size"] = _size(getattr(model, "img_size", None), 32)
        if role == "SwinTransformer":
            _read_stages(hp, units)
        elif role == "WindowAttention" and lin:
            hp["dim"] = lin[0].weight.shape[1]
        elif role == "SwinTransformerBlock" and norms:
            hp["dim"] = D = norms[0].weight.shape[0]
            fc1 = [u for u in lin if u.weight.shape[1] == D and u.weight.shape[0] not in (D, 3 * D)]
            if fc1:
                hp["hidden"] = fc1[0].weight.shape[0]
        elif role == "PatchMerging" and norms:
            hp["dim"] = norms[0].weight.shape[0] // 4
        D, cells = hp["dim"], (2 * hp["window"] - 1) ** 2
        table = next((u for u in units if u.kind == "param" and u.weight.numel() % cells == 0
                      and u.weight.numel() != D), None)
        if role == "SwinTransformer":
            hp["heads"] = [hp["stage_heads"][0]]
        elif table is not None:  # the bias table has one column per head: it tells the head count
            hp["heads"] = [table.weight.numel() // cells]
        elif "num_heads" in given:
            hp["heads"] = [self.small["num_heads"]]
        elif "head_dim" in given:
            hp["heads"] = [D // self.small["head_dim"]]
        else:
            hp["heads"] = [h for h in (2, 4, 3, 8, 6, 1) if D % h == 0]
        return hp

    def categories(self, role: str, hp: dict) -> list[tuple]:
        D, H, C, P = hp["dim"], hp["hidden"], hp["in_chans"], hp["patch_size"]
        cells = (2 * hp["window"] - 1) ** 2
        if role == "PatchEmbed":
            return [("conv", (D, C, P, P), "patch"), ("norm", (D,), "norm")]
        if role == "PatchMerging":
            return [("norm", (4 * D,), "norm"), ("linear", (2 * D, 4 * D), "reduction")]
        if role == "SwinTransformer":
            return _model_categories(hp, cells)
        rules = [("linear", (3 * D, D), "qkv"), ("linear", (D, D), "dd"), ("linear", (H, D), "fc1"),
                 ("linear", (D, H), "fc2"), ("norm", (D,), "norm")]
        return rules + [("param", (cells * h,), "table") for h in hp["heads"]]

    def describe(self, role: str, hp: dict) -> str:
        return f"dim {hp['dim']}, windows of {hp['window']} x {hp['window']}"

    def layout(self, role: str, hp: dict) -> list[tuple]:
        D, H, C, P, M = hp["dim"], hp["hidden"], hp["in_chans"], hp["patch_size"], hp["window"]
        if role == "PatchEmbed":
            return [("patch", "proj", f"patch projection (Conv2d {C} -> {D}, kernel = stride = {P})", (D, C, P)),
                    ("norm", "norm", f"LayerNorm after the patch projection (over {D} channels)")]
        if role == "PatchMerging":
            return [("norm", "norm", f"LayerNorm over the 4C = {4 * D} concatenated channels"),
                    ("linear", "reduction", "reduction", f"reduction (a Linear {4 * D} -> {2 * D}, bias=False)", False)]
        attention = [
            ("param", "relative_position_bias_table", "table",
             f"missing relative position bias: Eq.4 adds B to QKᵀ/√d, looked up in a learned table, an nn.Parameter "
             f"of shape ((2M-1)², heads) = ({(2 * M - 1) ** 2}, heads), by each pair of tokens' offset in the "
             f"{M} x {M} window"),
            ("qkv", "qkv", D), ("linear", "proj", "dd", f"output projection (a Linear {D} -> {D})")]
        if role == "WindowAttention":
            return attention
        if role == "SwinTransformer":
            return self._model_layout(hp)
        return [("norm", "norm1", "LayerNorm before the attention (norm1)"),
                *[(op[0], "attn." + op[1], *op[2:]) for op in attention],
                ("norm", "norm2", "LayerNorm before the MLP (norm2)"),
                ("linear", "mlp.fc1", "fc1", f"first MLP Linear ({D} -> {H})"),
                ("linear", "mlp.fc2", "fc2", f"second MLP Linear ({H} -> {D})")]

    def _model_layout(self, hp: dict) -> list[tuple]:
        """timm's keys stage by stage; the learner's units are taken in registration order, which puts a
        patch merging between two stages' blocks whether it ends a stage (the paper's code) or begins one."""
        ops = [(op[0], "patch_embed." + op[1], *op[2:]) for op in self.layout("PatchEmbed", hp)]
        for i, (depth, heads) in enumerate(zip(hp["depths"], hp["stage_heads"])):
            width = hp["dim"] << i
            if i:
                merging = self.layout("PatchMerging", {**hp, "dim": width // 2})
                ops += [(op[0], f"layers.{i}.downsample." + op[1], *op[2:]) for op in merging]
            block = self.layout("SwinTransformerBlock", {**hp, "dim": width, "hidden": 4 * width})
            ops += [(op[0], f"layers.{i}.blocks.{j}." + op[1], *op[2:]) for j in range(depth) for op in block]
        width = hp["dim"] << (len(hp["depths"]) - 1)
        return ops + [("norm", "norm", "final LayerNorm"),
                      ("linear", "head.fc", "head", f"classification head (Linear {width} -> {hp['num_classes']})")]

    def build(self, role: str, hp: dict, heads: int, qkv_bias: bool) -> nn.Module:
        import swin_impl as ref  # its names load the module that holds each on first use

        D, M = hp["dim"], hp["window"]
        if role == "PatchEmbed":
            return ref.PatchEmbed(hp["img_size"], hp["patch_size"], hp["in_chans"], D)
        if role == "WindowAttention":
            return ref.WindowAttention(D, heads, window_size=M, qkv_bias=qkv_bias)
        if role == "PatchMerging":
            return ref.PatchMerging(D)
        if role == "SwinTransformer":
            return ref.SwinTransformer(img_size=hp["img_size"], patch_size=hp["patch_size"], in_chans=hp["in_chans"],
                                       num_classes=hp["num_classes"], embed_dim=D, depths=hp["depths"],
                                       num_heads=hp["stage_heads"], window_size=M, mlp_ratio=4.0, qkv_bias=qkv_bias,
                                       drop_path_rate=0.0)
        return ref.SwinTransformerBlock(D, hp["resolution"], heads, window_size=M, shift_size=hp["shift"],
                                        mlp_ratio=hp["hidden"] / D, qkv_bias=qkv_bias)

    def input_shape(self, role: str, hp: dict, batch: int) -> tuple[int, ...]:
        if role in ("PatchEmbed", "SwinTransformer"):
            return (batch, hp["in_chans"], hp["img_size"], hp["img_size"])
        if role == "WindowAttention":
            return (batch * 4, hp["window"] ** 2, hp["dim"])  # four windows per image
        return (batch, hp["resolution"], hp["resolution"], hp["dim"])

    def layouts(self, role: str, hp: dict) -> list[tuple]:
        """The paper's own code passes tokens (B, H*W, C) between blocks, timm a (B, H, W, C) map."""
        if role not in ("SwinTransformerBlock", "PatchMerging"):
            return []
        side = hp["resolution"] // (2 if role == "PatchMerging" else 1)

        def to_map(y):  # a wrong shape stays as it is, for the shape check to name
            return y.unflatten(1, (side, side)) if y.ndim == 3 and y.shape[1] == side * side else y

        return [("tokens (B, H*W, C)", lambda x: x.flatten(1, 2), to_map)]

    def shape_hint(self, role: str, got: tuple, want: tuple, hp: dict) -> str:
        B, D = want[0], want[-1]
        if role == "PatchEmbed" and got == (B, D, want[1], want[2]):
            return " — Swin keeps channels last: permute(0, 2, 3, 1) after the Conv2d, then LayerNorm"
        if role == "PatchEmbed" and got == (B, want[1] * want[2], D):
            return " — Swin keeps the 2-D map (B, H/P, W/P, C): windows are cut from it"
        if role in ("SwinTransformerBlock", "PatchMerging") and len(got) == 3:
            return " — the map travels as (B, H, W, C), as in timm; reshape the tokens back to it"
        return ""

    def variants(self, role: str) -> list[Variant]:
        return variants(role)


def _read_stages(hp: dict, units: list) -> None:
    """Depths, heads and classes of a whole model, read from its weights: the MLPs and bias tables per width."""
    D, cells = hp["dim"], (2 * hp["window"] - 1) ** 2
    fc1 = [u.weight.shape[1] for u in units if u.kind == "linear" and u.weight.shape[0] == 4 * u.weight.shape[1]]
    widths = sorted(set(fc1))
    if widths and widths[0] == D:
        hp["depths"] = tuple(fc1.count(w) for w in widths)
    tables = [u.weight.numel() // cells for u in units if u.kind == "param" and u.weight.numel() % cells == 0]
    starts = [sum(hp["depths"][:i]) for i in range(len(hp["depths"]))]
    if len(tables) == sum(hp["depths"]):
        hp["stage_heads"] = tuple(tables[s] for s in starts)
    last = D << (len(hp["depths"]) - 1)
    head = [u for u in units if u.kind == "linear" and u.weight.shape[1] == last and u.weight.shape[0] not in
            (3 * last, last, 4 * last)]
    if head:
        hp["num_classes"] = head[-1].weight.shape[0]


def _model_categories(hp: dict, cells: int) -> list[tuple]:
    P = hp["patch_size"]
    rules = [("conv", (hp["dim"], hp["in_chans"], P, P), "patch")]
    for i, heads in enumerate(hp["stage_heads"]):
        D = hp["dim"] << i
        rules += [("linear", (3 * D, D), "qkv"), ("linear", (D, D), "dd"), ("linear", (4 * D, D), "fc1"),
                  ("linear", (D, 4 * D), "fc2"), ("norm", (D,), "norm"), ("param", (cells * heads,), "table")]
        if i:
            rules += [("norm", (2 * D,), "norm"), ("linear", (D, 2 * D), "reduction")]
    last = hp["dim"] << (len(hp["stage_heads"]) - 1)
    return rules + [("linear", (hp["num_classes"], last), "head")]


def _size(value, default: int) -> int:
    """One side of a size a learner's module keeps (M, or (M, M)); `default` when it keeps none."""
    if isinstance(value, (tuple, list)) and value:
        value = value[0]
    return int(value) if isinstance(value, int) else default


SPEC = SwinCheck()
