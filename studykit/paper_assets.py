"""What a paper's registry entry puts into its note: the implementing code, shape diagrams and pictures,
drawn into the vault's attachments only when missing."""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from studykit import note as note_context
from studykit.model import Paper

if TYPE_CHECKING:
    from studykit.notes import Workspace

MERMAID_CACHE = Path(".studykit") / "cache"


@functools.cache
def known_registries() -> dict:
    from studykit.papers import registries

    return registries()  # reading entry points costs ~15 ms; they do not change while studykit runs


def registry_of(paper: Paper):
    from studykit.papers import find_registry

    return find_registry(arxiv=paper.arxiv, title=paper.title, known=known_registries())


def module_source(qualified: str) -> note_context.Source | None:
    """The source of "package.module:Name" and its line numbers, read without importing it (no torch)."""
    module, _, name = qualified.partition(":")
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not os.path.isfile(spec.origin) or not name:
        return None
    with open(spec.origin, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    pattern = re.compile(rf"^(\s*)(?:class|def)\s+{re.escape(name.split('.')[-1])}\b")
    start = next((n for n, text in enumerate(lines) if pattern.match(text)), None)
    if start is None:
        return None
    indent = len(pattern.match(lines[start]).group(1))
    end = start + 1
    for n in range(start + 1, len(lines)):  # the body: every line indented deeper, blank lines inside it
        if lines[n].strip() and len(lines[n]) - len(lines[n].lstrip()) <= indent:
            break
        if lines[n].strip():
            end = n + 1
    depth = module.count(".") + (Path(spec.origin).name == "__init__.py")
    package_root = Path(spec.origin).parents[depth]
    path = Path(spec.origin).relative_to(package_root).as_posix()
    return note_context.Source(path, start + 1, "\n".join(lines[start:end]) + "\n")


def registry_assets(ws: Workspace, registry, note_path: Path, *, dry_run: bool = False) -> note_context.Assets:
    """Shape diagrams, pictures and implementing code of a paper's registry; diagrams and pictures drawn
    only when missing (each equation's own diagram only for `note_detail = "full"`)."""
    from studykit.papers import resolve
    from vault_export.sync import write_attachment

    folder = ws.vault.attachments_dir(note_path)
    prefix = note_context.diagram_prefix(registry)
    wanted = {"model": f"{prefix}-model-shapes.png"}
    if ws.config.note_detail == "full":
        wanted.update({eq.id: f"{prefix}-{note_context.equation_slug(eq.id)}-shapes.png" for eq in registry.equations})
    cache = ws.root / MERMAID_CACHE
    missing = [key for key, name in wanted.items()
               if not (folder / name).is_file() or not (cache / f"{name}.mmd").is_file()]
    if missing and not dry_run:
        for key, png, mermaid in _draw_diagrams(registry, missing):
            write_attachment(ws.vault, wanted[key], png, note_path)
            cache.mkdir(parents=True, exist_ok=True)
            (cache / f"{wanted[key]}.mmd").write_text(mermaid, encoding="utf-8")

    def mermaid_of(name: str) -> str:
        path = cache / f"{name}.mmd"
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    assets = note_context.Assets(model_diagram=wanted["model"], model_mermaid=mermaid_of(wanted["model"]))
    for slug, caption, draw in getattr(registry, "pictures", ()):  # a registry written before pictures has none
        name = f"{prefix}-{slug}.png"
        if not (folder / name).is_file() and not dry_run:
            write_attachment(ws.vault, name, resolve(draw)(), note_path)
        assets.pictures.append((name, caption))
    for eq in registry.equations:
        diagram = wanted.get(eq.id)
        assets.equations[eq.id] = note_context.EquationAssets(
            diagram, mermaid_of(diagram) if diagram else "", module_source(eq.module))
    return assets


def _draw_diagrams(registry, keys):
    """(key, PNG bytes, Mermaid text) for the model ("model") and the equations named in `keys`,
    drawn by the paper's own shape tracer (its registry names it)."""
    for key in keys:
        if key == "model":
            steps = registry.collapse_shapes(registry.trace_shapes(registry.model))
            ids = [eq.id for eq in registry.equations]
            title = f"{registry.model}: tensor shapes, {ids[0]}-{ids[-1]}" if ids else f"{registry.model}: tensor shapes"
        else:
            eq = registry.equation(key)
            steps = registry.trace_equation(key)
            title = f"{eq.id} {eq.title}"
        yield key, registry.shapes_png(steps, title=title), registry.shapes_mermaid(steps)
