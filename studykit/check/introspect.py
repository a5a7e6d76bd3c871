"""Reading a foreign nn.Module: build it small, and see its weights as units (Linear, Conv2d, norm, bare Parameter).

Nothing here knows a paper: the spec says which constructor keyword means what and how small.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any

from studykit.check.spec import CheckSpec


class Mismatch(Exception):
    """The learner's module cannot be lined up with the reference; the message says why."""


def construct(cls: type, spec: CheckSpec) -> tuple[Any, set[str]]:
    """An instance of the learner's class built with the spec's small sizes, and the concepts given."""
    params = [p for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    names = [p.name for p in params]
    kwargs, given = {}, set()
    for p in params:
        concept = spec.concept(p.name, names)
        if concept is None:
            if p.default is p.empty:
                raise Mismatch(f"cannot tell what `{p.name}` of {cls.__name__}.__init__ is; give it a default "
                               f"or a usual name (embed_dim, num_heads, patch_size, img_size, ...)")
            continue
        kwargs[p.name] = spec.small[concept]
        given.add(concept)
    return cls(**kwargs), given


@dataclass
class Unit:
    """One weight-bearing piece of the learner's module."""

    kind: str  # conv, linear, norm, param
    path: str
    module: Any
    weight: Any  # the Parameter (for `param`, the parameter itself)
    bias: Any = None
    category: str = "unknown"

    @property
    def leaf(self) -> str:
        return self.path.rsplit(".", 1)[-1]


_NORM_W, _NORM_B = ("weight", "gamma", "g", "scale", "alpha", "w"), ("bias", "beta", "b", "shift")


def units(model) -> list[Unit]:
    """The module's units in registration order; a norm is any module of equal-length 1-d weight (and bias)."""
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
