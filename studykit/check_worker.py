"""The subprocess side of `studykit check`: import the reader's file and grade its modules.

Run as `python -m studykit.check_worker FILE RESULT.json MAPPING_JSON`; writes its findings to
RESULT.json so that whatever the reader's code prints cannot garble them.

How the reader's hyper-parameters are found: each constructor keyword is recognised by its name
(`embed_dim`, `dim`, `d_model`, `num_heads`, `heads`, `patch_size`, ...; anything with `drop` in
it gets 0) and given a small value (dim 32, 4 heads, patch 4, image 16, MLP 128, depth 2, 10
classes); a required keyword that is not recognised stops that module with a message. Then the
built module's weights are read to learn what it really is (a hard-coded 768 wins over the 32 we
passed): dimensions from the Linear/Conv/LayerNorm shapes, depth from the number of MLPs, the image
size from the position embedding. The number of heads cannot be read from weights: without a
heads keyword each divisor of the dimension is tried and the one that matches is kept.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import math
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROLES = ["PatchEmbed", "MLP", "Attention", "Block", "VisionTransformer"]
CLASS_NAMES = {  # lower-cased class names recognised for each role
    "PatchEmbed": {"patchembed", "patchembedding", "patch_embed", "patchembeddings"},
    "MLP": {"mlp", "feedforward", "ffn"},
    "Attention": {"attention", "multiheadattention", "multiheadselfattention", "selfattention", "msa", "mhsa"},
    "Block": {"block", "transformerblock", "encoderblock", "transformerencoderblock", "transformerlayer"},
    "VisionTransformer": {"visiontransformer", "vit"},
}
SMALL = dict(img_size=16, patch_size=4, in_chans=3, dim=32, num_heads=4, hidden=128, mlp_ratio=4.0,
             depth=2, num_classes=10, qkv_bias=True, head_dim=8)
_CONCEPTS = {
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
CONCEPT_OF = {name: c for c, names in _CONCEPTS.items() for name in names.split()}
ATOL = RTOL = 1e-5
BATCH = 2


class Mismatch(Exception):
    """The reader's module cannot be lined up with the reference; the message says why."""


def concept_of(name: str, names: list[str]) -> str | None:
    n = name.lower()
    if "drop" in n:
        return "drop"
    if n in ("hidden_dim", "hidden_size"):  # the model width, unless something else already is
        return "hidden" if any(CONCEPT_OF.get(o.lower()) == "dim" for o in names if o != name) else "dim"
    return CONCEPT_OF.get(n)


def construct(cls):
    """An instance of the reader's class built with small hyper-parameters; returns it and the concepts given."""
    params = [p for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    names = [p.name for p in params]
    kwargs, given = {}, set()
    for p in params:
        c = concept_of(p.name, names)
        if c is None:
            if p.default is p.empty:
                raise Mismatch(f"cannot tell what `{p.name}` of {cls.__name__}.__init__ is; give it a default "
                               f"or a usual name (embed_dim, num_heads, patch_size, img_size, ...)")
            continue
        kwargs[p.name] = 0.0 if c == "drop" else SMALL[c]
        given.add(c)
    return cls(**kwargs), given


# --- the reader's module as units: Linear, Conv2d, norm, bare Parameter -----------------------

@dataclass
class Unit:
    kind: str  # conv, linear, norm, param
    path: str
    module: object
    weight: object  # the Parameter (for `param`, the parameter itself)
    bias: object = None
    category: str = "unknown"

    @property
    def leaf(self) -> str:
        return self.path.rsplit(".", 1)[-1]


_NORM_W, _NORM_B = ("weight", "gamma", "g", "scale", "alpha", "w"), ("bias", "beta", "b", "shift")


def units(model) -> list[Unit]:
    from torch import nn

    out = []
    for path, m in model.named_modules():
        direct = dict(m.named_parameters(recurse=False))
        if not direct:
            continue
        w = direct.get("weight")
        if isinstance(m, nn.Conv2d):
            out.append(Unit("conv", path, m, m.weight, m.bias))
        elif w is not None and w.ndim == 2 and set(direct) <= {"weight", "bias"}:
            out.append(Unit("linear", path, m, w, direct.get("bias")))
        elif all(p.ndim == 1 for p in direct.values()) and len({p.shape for p in direct.values()}) == 1 \
                and set(direct) <= set(_NORM_W + _NORM_B) and any(k in _NORM_W for k in direct):
            nw = next(direct[k] for k in _NORM_W if k in direct)
            nb = next((direct[k] for k in _NORM_B if k in direct), None)
            out.append(Unit("norm", path, m, nw, nb))
        else:
            for name, p in direct.items():
                out.append(Unit("param", f"{path}.{name}" if path else name, m, p))
    return out


def randomize(us: list[Unit], seed: int = 0) -> None:
    """Fresh random weights everywhere, so that zeros or ones in an init hide no mistake."""
    import torch

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for u in us:
            w = u.weight
            if u.kind == "norm":
                w.copy_(1 + 0.2 * torch.randn(w.shape, generator=g))
            elif u.kind == "param":
                w.copy_(torch.randn(w.shape, generator=g))
            else:
                fan_in = w[0].numel()
                w.copy_(torch.randn(w.shape, generator=g) / math.sqrt(fan_in))
            if u.bias is not None:
                u.bias.copy_(0.2 * torch.randn(u.bias.shape, generator=g))


# --- hyper-parameters read from the built module ----------------------------------------------

def infer(role: str, us: list[Unit], given: set[str], model) -> dict:
    hp = {k: SMALL[k] for k in ("img_size", "patch_size", "in_chans", "dim", "hidden", "depth", "num_classes")}
    lin = [u for u in us if u.kind == "linear"]
    norms = [u for u in us if u.kind == "norm"]
    conv = next((u for u in us if u.kind == "conv"), None)
    if role in ("PatchEmbed", "VisionTransformer"):
        if conv is not None:
            hp["dim"], hp["in_chans"], hp["patch_size"] = conv.weight.shape[0], conv.weight.shape[1], conv.weight.shape[2]
        elif lin:
            first = lin[0]
            hp["dim"], k = first.weight.shape
            if "patch_size" in given:
                hp["in_chans"] = k // hp["patch_size"] ** 2
            else:
                hp["patch_size"] = math.isqrt(k // hp["in_chans"])
    if role == "MLP" and lin:
        hp["hidden"], hp["dim"] = lin[0].weight.shape
    if role == "Attention" and lin:
        hp["dim"] = lin[0].weight.shape[1]
    if role in ("Block", "VisionTransformer") and norms:
        D = hp["dim"] = norms[0].weight.shape[0]
        fc1 = [u for u in lin if u.weight.shape[1] == D and u.weight.shape[0] not in (D, 3 * D)
               and any(v.weight.shape == (D, u.weight.shape[0]) for v in lin)]
        if fc1:
            hp["hidden"] = fc1[0].weight.shape[0]
            if role == "VisionTransformer":
                hp["depth"] = len(fc1)
                heads = [u for u in lin if u.weight.shape[1] == D and u.weight.shape[0] not in (D, 3 * D, hp["hidden"])]
                if heads:
                    hp["num_classes"] = heads[-1].weight.shape[0]
    if role == "VisionTransformer" and "img_size" not in given:
        D = hp["dim"]
        big = [u for u in us if u.kind == "param" and u.weight.numel() > D]
        if big:
            n = big[0].weight.numel() // D
            grid = math.isqrt(n - 1) if math.isqrt(n - 1) ** 2 == n - 1 else math.isqrt(n)
            hp["img_size"] = grid * hp["patch_size"]
    if role == "PatchEmbed" and "img_size" not in given:
        size = getattr(model, "img_size", getattr(model, "image_size", None))
        hp["img_size"] = size[0] if isinstance(size, (tuple, list)) else size or 4 * hp["patch_size"]
    D = hp["dim"]
    if "num_heads" in given:
        hp["heads"] = [SMALL["num_heads"]]
    elif "head_dim" in given:
        hp["heads"] = [D // SMALL["head_dim"]]
    else:
        hp["heads"] = [h for h in (12, 8, 16, 6, 4, 3, 2, 1) if D % h == 0]
    grid = hp["img_size"] // hp["patch_size"]
    hp["tokens"] = grid * grid + 1 if role == "VisionTransformer" else 17
    return hp


# --- lining the reader's units up with the reference's parameters ------------------------------

@dataclass
class Plan:
    """Reference parameter -> the reader's tensors and how to turn them into it."""

    slots: list = field(default_factory=list)  # (ref_key, [reader params], transform)
    eps: list = field(default_factory=list)  # (ref module path, eps)
    qkv_bias: bool = True
    patch_key: str = ""  # set when the patch projection is a Linear: both flatten orders are tried


def categorize(role: str, us: list[Unit], hp: dict) -> None:
    D, H, C, P = hp["dim"], hp["hidden"], hp["in_chans"], hp["patch_size"]
    N = hp["tokens"] - 1
    has_patch = role in ("PatchEmbed", "VisionTransformer")
    patch_taken = False
    for u in us:
        s = tuple(u.weight.shape)
        if u.kind == "conv" and has_patch and s == (D, C, P, P):
            u.category = "patch"
        elif u.kind == "linear":
            out, inp = s
            if has_patch and not patch_taken and (out, inp) == (D, C * P * P):
                u.category, patch_taken = "patch", True
            elif inp == D and out == 3 * D:
                u.category = "qkv"
            elif inp == D and out == D:
                u.category = "dd"
            elif inp == D and out == H:
                u.category = "fc1"
            elif inp == H and out == D:
                u.category = "fc2"
            elif inp == D and role == "VisionTransformer" and out == hp["num_classes"]:
                u.category = "head"
        elif u.kind == "norm" and s == (D,):
            u.category = "norm"
        elif u.kind == "param":
            n = u.weight.numel()
            u.category = {D: "cls", (N + 1) * D: "pos", N * D: "pos_nocls"}.get(n, "unknown")


def _ident(ts):
    return ts[0]


def _cat(ts):
    import torch

    return torch.cat(ts, 0)


def _qkv_order(group: list[Unit]) -> list[Unit]:
    """q, k, v, proj among four D x D Linears: by their names when they say, else as registered."""
    words = {"q": {"q", "query", "wq", "queries", "to_q"}, "k": {"k", "key", "wk", "keys", "to_k"},
             "v": {"v", "value", "wv", "values", "to_v"}, "o": {"proj", "out", "o", "wo", "projection", "output", "to_out"}}
    found = {}
    for u in group:
        tokens = set(re.split(r"[_.]", u.leaf.lower())) | {u.leaf.lower()}
        for key in ("q", "k", "v", "o"):
            if tokens & words[key] and key not in found:
                found[key] = u
                break
    if len(found) == 4 and len({id(u) for u in found.values()}) == 4:
        return [found[k] for k in "qkvo"]
    return group


def plan(role: str, us: list[Unit], hp: dict) -> Plan:
    categorize(role, us, hp)
    bad = [u for u in us if u.category == "unknown"]
    if bad:
        u = bad[0]
        raise Mismatch(f"`{u.path}` {tuple(u.weight.shape)} has no counterpart in the reference {role} "
                       f"(dim {hp['dim']}, MLP {hp['hidden']})")
    queues = {}
    for u in us:
        queues.setdefault(u.category, []).append(u)
    p = Plan()

    def take(cat: str, what: str) -> Unit:
        if not queues.get(cat):
            raise Mismatch(f"no {what} found")
        return queues[cat].pop(0)

    def linear(prefix: str, u: Unit, bias: bool = True):
        p.slots.append((prefix + ".weight", [u.weight], _ident))
        if bias and u.bias is None:
            raise Mismatch(f"`{u.path}` has no bias; the reference's {prefix} has one (nn.Linear's default)")
        if u.bias is not None:
            p.slots.append((prefix + ".bias", [u.bias], _ident))

    def norm(prefix: str, what: str):
        u = take("norm", what)
        if u.bias is None:
            raise Mismatch(f"the LayerNorm `{u.path}` has no bias (beta); LayerNorm has weight and bias")
        p.slots += [(prefix + ".weight", [u.weight], _ident), (prefix + ".bias", [u.bias], _ident)]
        p.eps.append((prefix, getattr(u.module, "eps", getattr(u.module, "epsilon", None))))

    def attention(prefix: str):
        if queues.get("qkv"):
            qkv = take("qkv", "")
            p.qkv_bias = qkv.bias is not None
            linear(prefix + "qkv", qkv, bias=p.qkv_bias)
        else:
            dd = queues.get("dd", [])
            if len(dd) < 3:
                raise Mismatch(f"no q, k, v projections found: a Linear {hp['dim']} -> {3 * hp['dim']} "
                               f"(fused qkv) or three Linears {hp['dim']} -> {hp['dim']}")
            parent = dd[0].path.rsplit(".", 1)[0]
            group = [u for u in dd if u.path.rsplit(".", 1)[0] == parent][:4]
            group = group if len(group) == 4 else dd[:4]
            if len(group) < 4:
                raise Mismatch("no output projection (proj) after the heads are merged: the reference "
                               f"has a Linear {hp['dim']} -> {hp['dim']} there")
            group = _qkv_order(group)
            for u in group:
                dd.remove(u)
            q, k, v, o = group
            biases = [u.bias is not None for u in (q, k, v)]
            if len(set(biases)) > 1:
                raise Mismatch("q, k and v do not all have (or all lack) a bias")
            p.qkv_bias = biases[0]
            p.slots.append((prefix + "qkv.weight", [q.weight, k.weight, v.weight], _cat))
            if p.qkv_bias:
                p.slots.append((prefix + "qkv.bias", [q.bias, k.bias, v.bias], _cat))
            queues.setdefault("dd", []).insert(0, o)
        linear(prefix + "proj", take("dd", f"output projection (a Linear {hp['dim']} -> {hp['dim']})"))

    def mlp(prefix: str):
        linear(prefix + "fc1", take("fc1", f"first MLP Linear ({hp['dim']} -> {hp['hidden']})"))
        linear(prefix + "fc2", take("fc2", f"second MLP Linear ({hp['hidden']} -> {hp['dim']})"))

    def block(prefix: str):
        norm(prefix + "norm1", "LayerNorm before the attention (norm1)")
        attention(prefix + "attn.")
        norm(prefix + "norm2", "LayerNorm before the MLP (norm2)")
        mlp(prefix + "mlp.")

    def patch(prefix: str):
        u = take("patch", f"patch projection (Conv2d {hp['in_chans']} -> {hp['dim']}, kernel = stride = "
                          f"{hp['patch_size']}, or a Linear {hp['in_chans'] * hp['patch_size'] ** 2} -> {hp['dim']})")
        if u.kind == "linear":
            p.patch_key = prefix + ".weight"
        p.slots.append((prefix + ".weight", [u.weight], _ident))
        if u.bias is None:
            raise Mismatch(f"the patch projection `{u.path}` has no bias; the reference's has one")
        p.slots.append((prefix + ".bias", [u.bias], _ident))

    if role == "PatchEmbed":
        patch("proj")
    elif role == "MLP":
        mlp("")
    elif role == "Attention":
        attention("")
    elif role == "Block":
        block("")
    else:
        patch("patch_embed.proj")
        if not queues.get("cls"):
            raise Mismatch(f"missing class token: Eq.1 prepends a learned x_class, an nn.Parameter of shape "
                           f"(1, 1, {hp['dim']}), to the patch tokens; the head reads it (Eq.4)")
        p.slots.append(("cls_token", [take("cls", "").weight], _ident))
        if not queues.get("pos"):
            raise Mismatch(f"missing position embedding: Eq.1 adds E_pos, an nn.Parameter of shape "
                           f"(1, {hp['tokens']}, {hp['dim']}) (one per patch plus the class token)")
        p.slots.append(("pos_embed", [take("pos", "").weight], _ident))
        # The final norm is the one outside the numbered blocks, wherever it was registered.
        tops = [u for u in queues.get("norm", []) if not re.search(r"\.\d+\.", "." + u.path)]
        if len(tops) == 1:
            queues["norm"].remove(tops[0])
            queues["norm"].append(tops[0])
        for i in range(hp["depth"]):
            block(f"blocks.{i}.")
        norm("norm", "final LayerNorm (Eq.4)")
        linear("head", take("head", f"classification head (Linear {hp['dim']} -> {hp['num_classes']})"))
    left = [u for q in queues.values() for u in q]
    if left:
        raise Mismatch(f"`{left[0].path}` {tuple(left[0].weight.shape)} has no counterpart in the reference {role}")
    return p


def reference(role: str, hp: dict, heads: int, qkv_bias: bool):
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


def state_from(p: Plan, order: str, hp: dict, shapes: dict, grads: bool = False) -> dict:
    """The reference state dict from the reader's weights (or their gradients).

    `order` is how a Linear patch projection flattens a patch: "cpp" (channels first, as
    unfold does) or "ppc" (channels last, as einops' `(p1 p2 c)`).
    """
    D, C, P = hp["dim"], hp["in_chans"], hp["patch_size"]
    state = {}
    for key, ts, fn in p.slots:
        t = fn([(x.grad if grads else x).detach() for x in ts])
        if key == p.patch_key:
            t = t.reshape(D, C, P, P) if order == "cpp" else t.reshape(D, P, P, C).permute(0, 3, 1, 2)
        state[key] = t.reshape(shapes[key])  # a (D,) class token or (N+1, D) position embedding
    return state


# --- grading -------------------------------------------------------------------------------

def reader_trace(exc: BaseException, file: Path) -> str:
    """The error, with only the frames in the reader's own file."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == file]
    lines = [f"{file.name}, line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in frames[-3:]]
    return "\n".join(lines + ["".join(traceback.format_exception_only(type(exc), exc)).strip()])


def make_input(role: str, hp: dict):
    import torch

    g = torch.Generator().manual_seed(1)
    if role in ("PatchEmbed", "VisionTransformer"):
        return torch.randn(BATCH, hp["in_chans"], hp["img_size"], hp["img_size"], generator=g)
    return torch.randn(BATCH, hp["tokens"], hp["dim"], generator=g)


def _out(y):
    return y[0] if isinstance(y, (tuple, list)) else y


def _close(a, b) -> bool:
    import torch

    return a.shape == b.shape and torch.allclose(a, b, rtol=RTOL, atol=ATOL)


def _shape_hint(role: str, got: tuple, want: tuple, hp: dict) -> str:
    B, D = BATCH, hp["dim"]
    g = hp["img_size"] // hp["patch_size"]
    if role == "PatchEmbed" and got == (B, D, g * g):
        return " — tokens and channels are swapped: transpose(1, 2) after flatten(2)"
    if role == "PatchEmbed" and got == (B, D, g, g):
        return " — the patch grid is not flattened into tokens: .flatten(2).transpose(1, 2)"
    if role == "VisionTransformer" and got == (B, hp["tokens"], D):
        return " — the head is missing, or the class token is not taken out (x[:, 0])"
    return ""


_REPORTED = {
    "PatchEmbed": ("img_size", "patch_size", "in_chans", "dim"), "MLP": ("dim", "hidden"),
    "Attention": ("dim", "heads"), "Block": ("dim", "heads", "hidden"),
    "VisionTransformer": ("img_size", "patch_size", "in_chans", "dim", "depth", "heads", "hidden", "num_classes"),
}


class Grader:
    """Grades one of the reader's classes in one role against the reference."""

    def __init__(self, role: str, cls, file: Path):
        self.role, self.cls, self.file = role, cls, file
        self.result = {"role": role, "class": cls.__name__, "passed": False, "checks": [],
                       "message": "", "step": None, "hparams": {}}

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.result["checks"].append({"name": name, "ok": bool(ok), "detail": detail})
        if not ok and not self.result["message"]:
            self.result["message"] = detail
        return ok

    def build_ref(self, hp, heads, qkv_bias, p: Plan | None, order: str):
        ref = reference(self.role, hp, heads, qkv_bias).eval()
        if p is not None:
            shapes = {k: v.shape for k, v in ref.state_dict().items()}
            ref.load_state_dict(state_from(p, order, hp, shapes))
            for path, eps in p.eps:
                if eps is not None:
                    ref.get_submodule(path).eps = eps
        return ref

    def run(self) -> dict:
        import torch

        name = self.cls.__name__
        try:
            model, given = construct(self.cls)
        except Mismatch as e:
            self.check("builds", False, str(e))
            return self.result
        except Exception as e:  # the reader's constructor failed
            self.check("builds", False, f"{name}(...) raised: {reader_trace(e, self.file)}")
            return self.result
        model.eval()
        us = units(model)
        randomize(us)
        hp = infer(self.role, us, given, model)
        self.result["hparams"] = {k: hp[k] for k in _REPORTED[self.role]}
        if "heads" in self.result["hparams"]:  # known once the outputs match, unless given
            self.result["hparams"]["heads"] = hp["heads"][0] if len(hp["heads"]) == 1 else None
        x = make_input(self.role, hp)
        xr = x.clone().requires_grad_()
        try:
            out = _out(model(xr))
        except Exception as e:
            self.check("runs", False, f"{name}.forward on input {tuple(x.shape)} raised: {reader_trace(e, self.file)}")
            return self.result
        try:
            p = plan(self.role, us, hp)
        except Mismatch as e:
            p = None
            self.check("structure", False, str(e))
        qkv_bias = p.qkv_bias if p else True
        base = self.build_ref(hp, hp["heads"][0], qkv_bias, None, "cpp")
        want = base(x)
        n_reader, n_ref = (sum(t.numel() for t in m.parameters()) for m in (model, base))
        self.check("parameter count", n_reader == n_ref,
                   f"{n_reader:,} parameters" + ("" if n_reader == n_ref else
                                                  f", the reference has {n_ref:,} ({n_reader - n_ref:+,})"))
        got_shape, want_shape = tuple(out.shape), tuple(want.shape)
        if not self.check("output shape", got_shape == want_shape, f"{got_shape}" + (
                "" if got_shape == want_shape else
                f", expected {want_shape}{_shape_hint(self.role, got_shape, want_shape, hp)}")):
            return self.result
        if p is None:
            return self.result
        orders = ["cpp", "ppc"] if p.patch_key else ["cpp"]
        combos = [(h, o) for h in hp["heads"] for o in orders]
        with torch.no_grad():
            match = next((c for c in combos if _close(out, self.build_ref(hp, *c[:1], qkv_bias, p, c[1])(x))), None)
        if match is None:
            with torch.no_grad():
                diff = (out - self.build_ref(hp, hp["heads"][0], qkv_bias, p, "cpp")(x)).abs().max().item()
            self.check("output values", False, self.diagnose(out, x, hp, qkv_bias, p, combos, diff))
            return self.result
        heads, order = match
        if "heads" in self.result["hparams"]:
            self.result["hparams"]["heads"] = heads
        self.check("output values", True, f"match within {ATOL:g}")
        ref = self.build_ref(hp, heads, qkv_bias, p, order)
        gw = torch.randn(out.shape, generator=torch.Generator().manual_seed(2))
        (out * gw).sum().backward()
        xref = x.clone().requires_grad_()
        (ref(xref) * gw).sum().backward()
        shapes = {k: v.shape for k, v in ref.state_dict().items()}
        mine = state_from(p, order, hp, shapes, grads=True)
        theirs = dict(ref.named_parameters())
        bad = [k for k, g in mine.items() if not torch.allclose(g, theirs[k].grad, rtol=1e-4, atol=1e-5)]
        if not torch.allclose(xr.grad, xref.grad, rtol=1e-4, atol=1e-5):
            bad.insert(0, "the input")
        self.check("gradients", not bad, "match" if not bad else
                   f"gradients differ for {', '.join(bad[:4])} — is something detached or computed in-place?")
        self.result["passed"] = all(c["ok"] for c in self.result["checks"])
        return self.result

    def diagnose(self, out, x, hp, qkv_bias, p, combos, diff) -> str:
        import torch

        from studykit import check_variants

        with torch.no_grad():
            for v in check_variants.variants_for(self.role):
                for heads, order in combos:
                    ref = self.build_ref(hp, heads, qkv_bias, p, order)
                    check_variants.apply(ref, v)
                    if _close(out, ref(x)):
                        self.result["step"] = v.step
                        msg = v.message.format(d=hp["dim"] // heads, h=heads)
                        return msg + (f" (attention step {v.step})" if v.step else "")
        return (f"outputs differ from the reference (max |difference| {diff:.3g}) and match none of the usual "
                f"mistakes; print the shapes after each step and compare with the exercise's walk-through")


def find_classes(module, mapping: dict[str, str]) -> tuple[dict, list[str]]:
    """The reader's class for each role (by class name, or the --module mapping), and every class defined."""
    from torch import nn

    defined = [c for _, c in inspect.getmembers(module, inspect.isclass)
               if issubclass(c, nn.Module) and c.__module__ == module.__name__]
    by_name = {c.__name__: c for c in defined}
    found = {}
    for role in ROLES:
        mine = [n for n, r in mapping.items() if r == role]
        if mine:
            found[role] = by_name.get(mine[0]) or mine[0]  # a str: named but not defined
            continue
        hit = next((c for c in defined if c.__name__.lower() in CLASS_NAMES[role]), None)
        if hit is not None:
            found[role] = hit
    return found, [c.__name__ for c in defined]


def main(argv: list[str]) -> int:
    file, result_path, mapping = Path(argv[0]).resolve(), Path(argv[1]), json.loads(argv[2])
    result = {"file": str(file), "imported": False, "import_error": None, "modules": [], "classes": [],
              "missing": []}

    def save():
        result_path.write_text(json.dumps(result, indent=1), encoding="utf-8")

    import torch

    torch.manual_seed(0)
    sys.path.insert(0, str(file.parent))
    spec = importlib.util.spec_from_file_location(f"studykit_exercise_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as e:  # SystemExit too: an import must not end the check silently
        result["import_error"] = reader_trace(e, file)
        save()
        return 0
    result["imported"] = True
    found, result["classes"] = find_classes(module, mapping)
    result["missing"] = [r for r in ROLES if r not in found]
    save()
    for role, cls in found.items():
        if isinstance(cls, str):
            result["modules"].append({"role": role, "class": cls, "passed": False, "step": None, "hparams": {},
                                      "checks": [], "message": f"no class {cls} in {file.name}"})
        else:
            result["modules"].append(Grader(role, cls, file).run())
        save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
