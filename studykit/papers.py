"""Paper registries (equations linked to code), found through the `studykit.papers` entry points.

An implementation package declares, in its pyproject.toml,
`[project.entry-points."studykit.papers"] "ARXIV_ID" = "package.module:REGISTRY"`,
so studykit learns of ViT, DeiT or Swin without importing any of them by name.
"""

from __future__ import annotations

import importlib
import re
import warnings
from importlib.metadata import entry_points
from typing import Any, Mapping, Protocol, Sequence

GROUP = "studykit.papers"


class Equation(Protocol):
    id: str
    title: str
    latex: str
    meaning: str
    module: str
    code: str

    def build(self) -> tuple[Any, Any]: ...


class GuideStage(Protocol):
    """A paper's stage of the learning guide and its flashcards, each in a note of its own."""

    name: str  # "Swin": names the notes ("Swin 从零实现 - 学习指南", "Swin 自测卡片 Flashcards")
    title: str  # the guide's heading
    values: Mapping[str, Any]  # the numbers the walk-throughs and cards are written with (`v`)
    # Jinja text, rendered with `v`: the stage (exercises as `- [ ] ... [check:: ROLE]`, ROLE one of
    # the check spec's roles) and the flashcards ("question::answer" lines); "" for both: the guide's
    # own templates (learning_guide.md.j2, flashcards.md.j2), the first paper of the learning path.
    stage: str
    cards: str


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
    # The commands that run the paper's model (`studykit attention`, `studykit train`): each a
    # "module:attr" string that `resolve` imports when the command runs, "" where the paper has
    # none. A ValueError from any of them is a problem the user can fix; its message says which.
    # (checkpoint path | None, model name | None) -> (eval model, mean, std, dataset | None); `studykit
    # attention` reads the model's `blocks` and `patch_embed.img_size` (timm's names)
    load_model: str
    explain_attention: str  # (model, PIL image, mean, std, layer, discard_ratio) -> (rollout mask, head maps)
    draw_attention: str  # (image (H, W, 3), mask, heads, png path, title=, layer=) -> None
    train_arguments: str  # (argparse parser) -> None; imports no torch, `studykit train --help` runs it
    train_config: str  # (parsed arguments) -> the run's configuration
    train: str  # (configuration) -> one row of metrics per epoch
    # Pictures the paper note embeds beside its shape diagram: (slug, caption, "module:attr" of a
    # () -> PNG bytes function); `resolve` imports the function only when its attachment is missing.
    pictures: Sequence[tuple[str, str, str]]
    guide: str  # "module:attr" of the paper's GuideStage (imports no torch), "" for none

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


# --- the commands that run a paper's model -----------------------------------------------------

# The paper a model command runs when no model or checkpoint names another: ViT, the first
# paper of the learning path. An id, not an import: its registry may be missing like any other.
DEFAULT_PAPER = "2010.11929"


def resolve(ref: str) -> Any:
    """The object a "module:attr" string names, its module imported now."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def model_paper(command: str, model: str | None = None, known: dict[str, PaperRegistry] | None = None) -> PaperRegistry:
    """The registry that runs `command` (a field name: "train", "explain_attention") for `model`: the
    paper whose reference models include it, else the default paper. LookupError says what is missing."""
    known = registries() if known is None else known
    what = command.replace("_", " ")
    owner = model_registry(model, known) if model else None
    if owner is None:
        offering = [r for r in known.values() if getattr(r, command)]
        owner = known.get(DEFAULT_PAPER) if known.get(DEFAULT_PAPER) in offering else next(iter(offering), None)
    if owner is None:
        raise LookupError(f"no installed paper (the {GROUP} entry points) has a {what}")
    if not getattr(owner, command):
        raise LookupError(f"{model}: {owner.title} (arXiv {owner.arxiv}) has no {what}")
    return owner


def model_registry(name: str, known: dict[str, PaperRegistry] | None = None) -> PaperRegistry | None:
    """The registry whose reference models include `name` ("swin_tiny_patch4_window7_224"), or None."""
    known = registries() if known is None else known
    return next((r for r in known.values() if name in r.model_names()), None)
