"""What a paper tells the checker: the contract of a registry's `check` entry, and finding it.

A registry names its spec by a "module:attr" string (`PaperRegistry.check`), imported only by
`studykit check`, so reading a registry stays torch-free. Importing the spec itself should
import no torch either (the checker's own side words the report from it); building models,
reading weights and the mistakes' forwards run in the checker's subprocess.

The checker's engine is paper-neutral: it builds the learner's class with the spec's small
sizes, reads its Linear, Conv2d, norm and bare-parameter "units", sorts them into the spec's
categories by shape, lines them up with the reference's state-dict keys in the order of the
spec's layout, and compares outputs and gradients; a wrong output is matched against the
spec's variants (the reference with one usual mistake).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from studykit.papers import registries, resolve


class Variant(Protocol):
    """One usual mistake."""

    name: str
    message: str  # what is wrong, for the learner; str.format fields: h (heads), d (head dim), any hyper-parameter
    step: int | None  # the guide exercise's step to look at (CheckSpec.steps), or None

    def apply(self, model: Any) -> None:
        """Make the reference `model` (built by CheckSpec.build) commit the mistake, in place."""


class CheckSpec(Protocol):
    """A paper's roles for `studykit check`.

    Layout operations (`layout`), in the order the learner's units are taken:
      ("patch", KEY, WHAT, (D, C, P))  a patch projection: Conv2d, or a Linear over flattened P x P x C
                                       patches (channels first or last: both are tried); category "patch"
      ("linear", KEY, CATEGORY, WHAT[, False])  a Linear with bias (KEY.weight, KEY.bias); False: without
      ("qkv", KEY, D)                  q, k, v as one Linear D -> 3D (category "qkv") or three D -> D
                                       (category "dd"); a fourth D -> D beside them goes back to the front
                                       of "dd", for the output projection that follows
      ("norm", KEY, WHAT)              a LayerNorm with weight and bias; its eps is carried over
      ("param", KEY, CATEGORY, MISSING) a bare nn.Parameter; MISSING is the message when there is none
      ("last", CATEGORY)               the one unit of CATEGORY outside numbered sub-modules is taken last
    WHAT names the thing in "no WHAT found". Units (`infer`'s input) have `kind` (conv, linear,
    norm, param), `path`, `weight` and `bias`. The reference keeps its own buffers (a relative
    position index, an attention mask): only parameters come from the learner.
    """

    roles: Mapping[str, frozenset[str]]  # role -> lower-cased class names a learner writes; checking order
    small: Mapping[str, Any]  # concept -> the small value a constructor keyword gets
    reported: Mapping[str, Sequence[str]]  # role -> the hyper-parameters the report shows
    exercise: str  # the guide exercise whose steps `steps` are ("Attention")
    steps: Mapping[int, str]  # step -> its title in the guide

    def concept(self, keyword: str, keywords: list[str]) -> str | None:
        """The concept (a key of `small`) of a constructor keyword, given all of them; None: unknown."""

    def infer(self, role: str, units: list, given: set[str], model: Any) -> dict:
        """The hyper-parameters of the built module, read from its units.

        Among them "dim" (the width) and "heads": the head counts to try, in order (weights cannot tell).
        """

    def categories(self, role: str, hp: dict) -> list[tuple]:
        """Rules (kind, shape, category[, at most n]); a param's shape is (numel,). First match wins."""

    def layout(self, role: str, hp: dict) -> list[tuple]:
        """The reference's keys as layout operations (see the class docstring)."""

    def describe(self, role: str, hp: dict) -> str:
        """The sizes the reference was built with, for "no counterpart" messages."""

    def build(self, role: str, hp: dict, heads: int, qkv_bias: bool) -> Any:
        """The reference module for `role` at these sizes."""

    def input_shape(self, role: str, hp: dict, batch: int) -> tuple[int, ...]: ...

    def layouts(self, role: str, hp: dict) -> Sequence[tuple[str, Any, Any]]:
        """Other layouts a learner's forward may take, tried in order when the reference's raises:
        (name, to_learner(x), to_reference(output)), both differentiable views. Optional; none by default."""

    def shape_hint(self, role: str, got: tuple, want: tuple, hp: dict) -> str:
        """What a wrong output shape usually means (" — ..."), or ""."""

    def variants(self, role: str) -> Sequence[Variant]: ...


def specs() -> dict[str, CheckSpec]:
    """Every installed paper's check spec, by arXiv id, in registry order. One that fails to load is skipped."""
    found = {}
    for arxiv, registry in registries().items():
        if not registry.check:
            continue
        try:
            found[arxiv] = resolve(registry.check)
        except Exception as exc:  # as for a registry: a broken plugin must not stop studykit, nor hide
            warnings.warn(f"{arxiv}: check spec {registry.check!r} failed to load: {exc}", stacklevel=2)
    return found


def resolve_role(role: str, known: Mapping[str, CheckSpec]) -> str | None:
    """A role as spelled on the command line (any case, or one of its class names) -> the role, or None."""
    want = role.strip().lower()
    for spec in known.values():
        for name, classes in spec.roles.items():
            if want == name.lower() or want in classes:
                return name
    return None
