"""Lining the learner's units up with the reference's state dict, as the spec's layout lists it.

Units are sorted into categories by shape (the spec's rules), one queue per category; the
layout's operations then take from the queues in order, so the n-th norm of the learner's
module is the n-th norm the reference has. What is left over, or missing, is a Mismatch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from studykit.check.introspect import Mismatch, Unit

_QKV_WORDS = {"q": {"q", "query", "wq", "queries", "to_q"}, "k": {"k", "key", "wk", "keys", "to_k"},
              "v": {"v", "value", "wv", "values", "to_v"},
              "o": {"proj", "out", "o", "wo", "projection", "output", "to_out"}}


@dataclass
class Slot:
    key: str  # the reference's state-dict key
    tensors: list  # the learner's parameters for it: one, or q, k, v to concatenate


@dataclass
class Plan:
    """Reference parameter -> the learner's tensors."""

    slots: list[Slot] = field(default_factory=list)
    eps: list[tuple[str, float | None]] = field(default_factory=list)  # (reference norm path, the learner's eps)
    qkv_bias: bool = True
    patch: tuple[str, tuple[int, int, int]] | None = None  # (key, (D, C, P)) when the patch projection is a Linear


def categorize(us: list[Unit], rules: list[tuple]) -> None:
    """Set each unit's category: the first rule of its kind and shape that is not used up."""
    used = [0] * len(rules)
    for u in us:
        shape = (u.weight.numel(),) if u.kind == "param" else tuple(u.weight.shape)
        for i, (kind, want, category, *limit) in enumerate(rules):
            if kind == u.kind and tuple(want) == shape and (not limit or used[i] < limit[0]):
                u.category, used[i] = category, used[i] + 1
                break


class _Aligner:
    def __init__(self, us: list[Unit]):
        self.queues: dict[str, list[Unit]] = {}
        for u in us:
            self.queues.setdefault(u.category, []).append(u)
        self.plan = Plan()

    def take(self, category: str, what: str) -> Unit:
        if not self.queues.get(category):
            raise Mismatch(f"no {what} found")
        return self.queues[category].pop(0)

    def add(self, key: str, u: Unit, bias_message: str) -> None:
        self.plan.slots.append(Slot(key + ".weight", [u.weight]))
        if u.bias is None:
            raise Mismatch(bias_message)
        self.plan.slots.append(Slot(key + ".bias", [u.bias]))

    def linear(self, key: str, category: str, what: str, bias: bool = True) -> None:
        u = self.take(category, what)
        if bias:
            self.add(key, u, f"`{u.path}` has no bias; the reference's {key} has one (nn.Linear's default)")
            return
        if u.bias is not None:
            raise Mismatch(f"`{u.path}` has a bias; the reference's {key} has none (bias=False)")
        self.plan.slots.append(Slot(key + ".weight", [u.weight]))

    def patch(self, key: str, what: str, sizes: tuple[int, int, int]) -> None:
        u = self.take("patch", what)
        if u.kind == "linear":
            self.plan.patch = (key + ".weight", sizes)
        self.add(key, u, f"the patch projection `{u.path}` has no bias; the reference's has one")

    def norm(self, key: str, what: str) -> None:
        u = self.take("norm", what)
        self.add(key, u, f"the LayerNorm `{u.path}` has no bias (beta); LayerNorm has weight and bias")
        self.plan.eps.append((key, getattr(u.module, "eps", getattr(u.module, "epsilon", None))))

    def param(self, key: str, category: str, missing: str) -> None:
        if not self.queues.get(category):
            raise Mismatch(missing)
        self.plan.slots.append(Slot(key, [self.take(category, "").weight]))

    def last(self, category: str) -> None:
        queue = self.queues.get(category, [])
        outside = [u for u in queue if not re.search(r"\.\d+\.", "." + u.path)]
        if len(outside) == 1:
            queue.remove(outside[0])
            queue.append(outside[0])

    def qkv(self, key: str, dim: int) -> None:
        if self.queues.get("qkv"):
            u = self.take("qkv", "")
            self.plan.qkv_bias = u.bias is not None
            self.plan.slots.append(Slot(key + ".weight", [u.weight]))
            if u.bias is not None:
                self.plan.slots.append(Slot(key + ".bias", [u.bias]))
            return
        dd = self.queues.setdefault("dd", [])
        if len(dd) < 3:
            raise Mismatch(f"no q, k, v projections found: a Linear {dim} -> {3 * dim} (fused qkv) "
                           f"or three Linears {dim} -> {dim}")
        parent = dd[0].path.rsplit(".", 1)[0]
        group = [u for u in dd if u.path.rsplit(".", 1)[0] == parent][:4]
        group = group if len(group) == 4 else dd[:4]
        if len(group) < 4:
            raise Mismatch("no output projection (proj) after the heads are merged: the reference "
                           f"has a Linear {dim} -> {dim} there")
        q, k, v, o = _qkv_order(group)
        for u in group:
            dd.remove(u)
        biases = {u.bias is not None for u in (q, k, v)}
        if len(biases) > 1:
            raise Mismatch("q, k and v do not all have (or all lack) a bias")
        self.plan.qkv_bias = biases.pop()
        self.plan.slots.append(Slot(key + ".weight", [q.weight, k.weight, v.weight]))
        if self.plan.qkv_bias:
            self.plan.slots.append(Slot(key + ".bias", [q.bias, k.bias, v.bias]))
        dd.insert(0, o)


def _qkv_order(group: list[Unit]) -> list[Unit]:
    """q, k, v, proj among four D x D Linears: by their names when they say, else as registered."""
    found = {}
    for u in group:
        tokens = set(re.split(r"[_.]", u.leaf.lower())) | {u.leaf.lower()}
        for key in "qkvo":
            if tokens & _QKV_WORDS[key] and key not in found:
                found[key] = u
                break
    if len(found) == 4 and len({id(u) for u in found.values()}) == 4:
        return [found[k] for k in "qkvo"]
    return group


_OPERATIONS = ("patch", "linear", "qkv", "norm", "param", "last")  # CheckSpec's layout operations


def plan(us: list[Unit], rules: list[tuple], layout: list[tuple], role: str, sizes: str) -> Plan:
    """The plan for `layout`; Mismatch when a unit has no place in it or a place no unit."""
    categorize(us, rules)
    bad = next((u for u in us if u.category == "unknown"), None)
    if bad is not None:
        raise Mismatch(f"`{bad.path}` {tuple(bad.weight.shape)} has no counterpart in the reference {role} ({sizes})")
    aligner = _Aligner(us)
    for op, *args in layout:
        if op not in _OPERATIONS:
            raise ValueError(f"layout operation {op!r} is none of {', '.join(_OPERATIONS)}")
        getattr(aligner, op)(*args)
    left = [u for q in aligner.queues.values() for u in q]
    if left:
        raise Mismatch(f"`{left[0].path}` {tuple(left[0].weight.shape)} has no counterpart in the reference {role}")
    return aligner.plan


def state_from(p: Plan, order: str, shapes: dict, grads: bool = False) -> dict:
    """The reference state dict from the learner's weights (or their gradients).

    `order` is how a Linear patch projection flattens a patch: "cpp" (channels first, as
    unfold does) or "ppc" (channels last, as einops' `(p1 p2 c)`).
    """
    import torch

    state = {}
    for slot in p.slots:
        ts = [(x.grad if grads else x).detach() for x in slot.tensors]
        t = torch.cat(ts, 0) if len(ts) > 1 else ts[0]
        if p.patch is not None and slot.key == p.patch[0]:
            D, C, P = p.patch[1]
            t = t.reshape(D, C, P, P) if order == "cpp" else t.reshape(D, P, P, C).permute(0, 3, 1, 2)
        state[slot.key] = t.reshape(shapes[slot.key])  # a (D,) class token or (N+1, D) position embedding
    return state
