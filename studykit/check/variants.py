"""Naming a wrong output: the reference with each of the spec's usual mistakes, until one matches."""

from __future__ import annotations

from typing import Any, Callable

from studykit.check.spec import CheckSpec

ATOL = RTOL = 1e-5


def close(a, b) -> bool:
    import torch

    return a.shape == b.shape and torch.allclose(a, b, rtol=RTOL, atol=ATOL)


def diagnose(spec: CheckSpec, role: str, out, x, hp: dict, combos: list[tuple[int, str]],
             build: Callable[[int, str], Any]) -> tuple[str, int | None] | None:
    """The mistake whose output `out` is, and its guide step; None when it is none of them.

    `build(heads, order)` gives the reference with the learner's weights, for each way of
    reading them that `combos` lists.
    """
    import torch

    with torch.no_grad():
        for variant in spec.variants(role):
            for heads, order in combos:
                ref = build(heads, order)
                variant.apply(ref)
                if close(out, ref(x)):
                    message = variant.message.format(**{**hp, "d": hp["dim"] // heads, "h": heads})
                    if variant.step:
                        message += f" ({spec.exercise.lower()} step {variant.step})"
                    return message, variant.step
    return None
