"""Grading one of the learner's classes in one role: parameter count, output shape, values and gradients."""

from __future__ import annotations

import traceback
from pathlib import Path

from studykit.check.align import Plan, plan, state_from
from studykit.check.introspect import Mismatch, construct, randomize, units
from studykit.check.report import Check, ModuleResult
from studykit.check.spec import CheckSpec
from studykit.check.variants import ATOL, close, diagnose

BATCH = 2


def reader_trace(exc: BaseException, file: Path) -> str:
    """The error, with only the frames in the learner's own file."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == file]
    lines = [f"{file.name}, line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in frames[-3:]]
    return "\n".join(lines + ["".join(traceback.format_exception_only(type(exc), exc)).strip()])


def _first(y):
    return y[0] if isinstance(y, (tuple, list)) else y


class Grader:
    """Grades one of the learner's classes in one role against the paper's reference."""

    def __init__(self, spec: CheckSpec, role: str, cls: type, file: Path):
        self.spec, self.role, self.cls, self.file = spec, role, cls, file
        self.result = ModuleResult(role=role, name=cls.__name__)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.result.checks.append(Check(name, bool(ok), detail))
        if not ok and not self.result.message:
            self.result.message = detail
        return ok

    def reference(self, hp: dict, heads: int, qkv_bias: bool, p: Plan | None, order: str):
        """The reference in eval mode; with `p`, holding the learner's weights read in `order`."""
        ref = self.spec.build(self.role, hp, heads, qkv_bias).eval()
        if p is not None:
            own = ref.state_dict()
            buffers = {k: own[k] for k, _ in ref.named_buffers() if k in own}
            ref.load_state_dict({**buffers, **state_from(p, order, {k: v.shape for k, v in own.items()})})
            for path, eps in p.eps:
                if eps is not None:
                    ref.get_submodule(path).eps = eps
        return ref

    def run(self) -> ModuleResult:
        import torch

        name = self.cls.__name__
        try:
            model, given = construct(self.cls, self.spec)
        except Mismatch as e:
            self.check("builds", False, str(e))
            return self.result
        except Exception as e:  # the learner's constructor failed
            self.check("builds", False, f"{name}(...) raised: {reader_trace(e, self.file)}")
            return self.result
        model.eval()
        us = units(model)
        randomize(us)
        hp = self.spec.infer(self.role, us, given, model)
        self.result.hparams = {k: hp[k] for k in self.spec.reported[self.role]}
        if "heads" in self.result.hparams:  # known once the outputs match, unless given
            self.result.hparams["heads"] = hp["heads"][0] if len(hp["heads"]) == 1 else None
        x = torch.randn(self.spec.input_shape(self.role, hp, BATCH), generator=torch.Generator().manual_seed(1))
        xr = x.clone().requires_grad_()
        out = self._forward(model, xr, hp)
        if out is None:
            return self.result
        try:
            p = plan(us, self.spec.categories(self.role, hp), self.spec.layout(self.role, hp), self.role,
                     self.spec.describe(self.role, hp))
        except Mismatch as e:
            p = None
            self.check("structure", False, str(e))
        qkv_bias = p.qkv_bias if p else True
        if not self._shape_and_count(model, out, x, hp, qkv_bias) or p is None:
            return self.result
        match = self._values(out, x, hp, qkv_bias, p)
        if match is not None:
            self._gradients(out, xr, x, hp, qkv_bias, p, *match)
            self.result.passed = all(c.ok for c in self.result.checks)
        return self.result

    def _forward(self, model, xr, hp: dict):
        """The learner's output on `xr` in the reference's layout, trying the spec's other layouts when the
        reference's raises; None (the failure recorded) when every one raises."""
        layouts = getattr(self.spec, "layouts", lambda role, hp: ())(self.role, hp)
        first = None
        for _, to_learner, to_reference in [("", lambda t: t, lambda t: t), *layouts]:
            try:
                return to_reference(_first(model(to_learner(xr))))
            except Exception as e:
                first = first or e
        self.check("runs", False, f"{self.cls.__name__}.forward on input {tuple(xr.shape)} raised: "
                                  f"{reader_trace(first, self.file)}")
        return None

    def _shape_and_count(self, model, out, x, hp: dict, qkv_bias: bool) -> bool:
        import torch

        base = self.reference(hp, hp["heads"][0], qkv_bias, None, "cpp")
        with torch.no_grad():
            want = base(x)
        n_mine, n_ref = (sum(t.numel() for t in m.parameters()) for m in (model, base))
        self.check("parameter count", n_mine == n_ref, f"{n_mine:,} parameters" + (
            "" if n_mine == n_ref else f", the reference has {n_ref:,} ({n_mine - n_ref:+,})"))
        got, expected = tuple(out.shape), tuple(want.shape)
        hint = "" if got == expected else f", expected {expected}{self.spec.shape_hint(self.role, got, expected, hp)}"
        return self.check("output shape", got == expected, f"{got}{hint}")

    def _values(self, out, x, hp: dict, qkv_bias: bool, p: Plan) -> tuple[int, str] | None:
        """The (heads, patch order) under which the outputs match, or None with the mistake named."""
        import torch

        orders = ["cpp", "ppc"] if p.patch else ["cpp"]
        combos = [(h, o) for h in hp["heads"] for o in orders]
        with torch.no_grad():
            match = next((c for c in combos if close(out, self.reference(hp, c[0], qkv_bias, p, c[1])(x))), None)
            if match is None:
                diff = (out - self.reference(hp, hp["heads"][0], qkv_bias, p, "cpp")(x)).abs().max().item()
        if match is None:
            found = diagnose(self.spec, self.role, out, x, hp, combos,
                             lambda heads, order: self.reference(hp, heads, qkv_bias, p, order))
            if found is None:
                found = (f"outputs differ from the reference (max |difference| {diff:.3g}) and match none of the "
                         "usual mistakes; print the shapes after each step and compare with the exercise's "
                         "walk-through", None)
            self.result.step = found[1]
            self.check("output values", False, found[0])
            return None
        if "heads" in self.result.hparams:
            self.result.hparams["heads"] = match[0]
        self.check("output values", True, f"match within {ATOL:g}")
        return match

    def _gradients(self, out, xr, x, hp: dict, qkv_bias: bool, p: Plan, heads: int, order: str) -> None:
        import torch

        ref = self.reference(hp, heads, qkv_bias, p, order)
        gw = torch.randn(out.shape, generator=torch.Generator().manual_seed(2))
        (out * gw).sum().backward()
        xref = x.clone().requires_grad_()
        (ref(xref) * gw).sum().backward()
        shapes = {k: v.shape for k, v in ref.state_dict().items()}
        mine = state_from(p, order, shapes, grads=True)
        theirs = dict(ref.named_parameters())
        bad = [k for k, g in mine.items() if not torch.allclose(g, theirs[k].grad, rtol=1e-4, atol=1e-5)]
        if not torch.allclose(xr.grad, xref.grad, rtol=1e-4, atol=1e-5):
            bad.insert(0, "the input")
        self.check("gradients", not bad, "match" if not bad else
                   f"gradients differ for {', '.join(bad[:4])} — is something detached or computed in-place?")
