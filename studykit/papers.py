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
    # The exercise checker (`studykit check`): "module:attr" of the paper's check spec, "" for none.
    # A string, so that reading the registry imports nothing; the contract (roles and the class
    # names a learner writes, small sizes, reference builders, layouts, mistakes) is
    # studykit.check.spec.CheckSpec.
    check: str
    checklist: Sequence[str]  # questions about this paper alone, added to the direction's checklist
    tags: Sequence[str]  # field tags of this paper ("CV/classification"), added to the note's tags

    def equation(self, eq_id: str) -> Equation: ...


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
