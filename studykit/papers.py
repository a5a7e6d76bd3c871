"""Paper registries (equations linked to code), found through the `studykit.papers` entry points.

An implementation package declares, in its pyproject.toml,
`[project.entry-points."studykit.papers"] "ARXIV_ID" = "package.module:REGISTRY"`,
so studykit learns of ViT, DeiT or Swin without importing any of them by name.
"""

from __future__ import annotations

import re
import warnings
from importlib.metadata import entry_points
from typing import Any, Protocol, Sequence

GROUP = "studykit.papers"


class Equation(Protocol):
    id: str
    title: str
    latex: str
    meaning: str
    module: str
    code: str

    def build(self) -> tuple[Any, Any]: ...


class PaperRegistry(Protocol):
    arxiv: str
    title: str
    model: str
    equations: Sequence[Equation]

    def equation(self, eq_id: str) -> Equation: ...

    # The reference models and their shapes, for `studykit shapes` and the notes' diagrams. Each
    # imports the paper's package (and torch) when called, never when the registry is read.
    def model_names(self) -> Sequence[str]: ...  # the named configs, timm's names; `model` is one of them

    def create_model(self, name: str, **overrides) -> Any: ...  # the model factory

    def trace_shapes(self, name: str, batch: int = 2, img_size: int | None = None) -> list: ...  # every step

    def collapse_shapes(self, steps: list) -> list: ...  # repeated blocks shown once, with a repeat count

    def trace_equation(self, eq_id: str) -> list: ...  # the steps of one equation's module

    def shapes_png(self, steps: list, title: str = "") -> bytes: ...

    def shapes_mermaid(self, steps: list) -> str: ...


def registries() -> dict[str, PaperRegistry]:
    """Every installed registry, by arXiv id. One that fails to load is skipped with a warning."""
    found: dict[str, PaperRegistry] = {}
    for ep in entry_points(group=GROUP):
        try:
            registry = ep.load()
        except Exception as exc:  # a broken plugin must not stop studykit, but must not hide either
            warnings.warn(f"studykit.papers entry point {ep.name!r} ({ep.value}) failed to load: {exc}", stacklevel=2)
            continue
        found[registry.arxiv] = registry
    return found


_ARXIV_ID = re.compile(r"(\d{4}\.\d{4,5})(?:v\d+)?")


def arxiv_id(text: str) -> str:
    """The bare new-style arXiv id in `text` ("arXiv:2010.11929v2", an abs URL...), or ""."""
    match = _ARXIV_ID.search(text or "")
    return match.group(1) if match else ""


def _title_key(title: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", title.casefold()).split())


def find_registry(arxiv: str = "", title: str = "", known: dict[str, PaperRegistry] | None = None) -> PaperRegistry | None:
    """The registry of a paper, by arXiv id (any version) or else by title (case and punctuation ignored).

    `known`: the result of `registries()`, for callers that look up many papers at once.
    """
    known = registries() if known is None else known
    bare = arxiv_id(arxiv)
    if bare in known:
        return known[bare]
    key = _title_key(title)
    if key:
        for registry in known.values():
            if _title_key(registry.title) == key:
                return registry
    return None


def model_registry(name: str, known: dict[str, PaperRegistry] | None = None) -> PaperRegistry | None:
    """The registry whose reference models include `name` ("swin_tiny_patch4_window7_224"), or None."""
    known = registries() if known is None else known
    return next((r for r in known.values() if name in r.model_names()), None)
