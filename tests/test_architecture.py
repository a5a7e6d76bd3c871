"""The import rules of docs/architecture.md, read from every module's source with `ast`.

- vault_export imports nothing of studykit and no model package;
- studykit imports no model package (vit_impl, swin_impl, or any package a `studykit.papers`
  entry point names): it reaches a paper's code only through studykit.papers (the registries
  and `resolve` of their "module:attr" fields);
- a model package imports nothing of studykit or vault_export.
An import inside a function counts as one at the top, and so does `importlib.import_module`
or `__import__` of a literal name. The commands that need no torch are checked by running them
(-X importtime): annotations in test_cli_annotations.py, import in test_import.py, run in
test_cli_run.py, progress in test_progress.py, and sync and tick here.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from locations import REPO
from studykit.cli import main
from zotero_fixture import build_library

ROOT = REPO
OURS = {"studykit", "vault_export"}

# Offenders that another helper is removing on a branch not merged yet: (module, package) -> the
# helper. The lead empties this list as those branches merge; test_pending_lists_only_live_offenders
# says which entry a merge has made stale. Anything not listed here fails.
PENDING: dict[tuple[str, str], str] = {
    # (importing file, model package): who is moving it behind the registry. Empty: studykit
    # reaches every model only through its registry entry. studykit/guide.py still knows ViT by its
    # arXiv id and numbers, which is no import: this test cannot see it.
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing file, relative to the checkout: "studykit/cli/train.py"
    line: int
    name: str  # the absolute dotted name imported: "vit_impl.attention"

    @property
    def package(self) -> str:
        return self.name.split(".")[0]


def _entry_point_package(value: str) -> str:
    """"vit_impl.equations:REGISTRY" -> "vit_impl"."""
    return value.split(":")[0].split(".")[0]


def model_packages() -> set[str]:
    """vit_impl, swin_impl, and the top-level package of every `studykit.papers` entry point, in
    this checkout's pyproject.toml or installed."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    values = list(declared.get("entry-points", {}).get("studykit.papers", {}).values())
    values += [ep.value for ep in entry_points(group="studykit.papers")]
    return ({"vit_impl", "swin_impl"} | {_entry_point_package(v) for v in values}) - OURS


def imports_of(path: Path, root: Path = ROOT) -> list[Import]:
    """Every import in the file at `path`, at any depth, relative ones made absolute."""
    rel = path.relative_to(root)
    package = ".".join(rel.with_suffix("").parts[:-1] if rel.name != "__init__.py" else rel.parent.parts)
    found = []
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(rel.as_posix(), node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module
            found.append(Import(rel.as_posix(), node.lineno, name))
        elif isinstance(node, ast.Call) and _imports_by_name(node.func) and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            found.append(Import(rel.as_posix(), node.lineno, node.args[0].value))
    return found


def _imports_by_name(func: ast.expr) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__")


def imports_in(*packages: str, root: Path = ROOT) -> list[Import]:
    """The imports of every module of these packages that exist under `root`."""
    return [imp for package in sorted(packages) for path in sorted((root / package).rglob("*.py"))
            for imp in imports_of(path, root)]


def _offences(importers: tuple[str, ...], forbidden: set[str]) -> list[Import]:
    return [imp for imp in imports_in(*importers) if imp.package in forbidden]


def _listing(offences: list[Import]) -> str:
    return "\n".join(f"{imp.module}:{imp.line} imports {imp.name}" for imp in offences)


def test_the_scanner_sees_imports_at_any_depth_relative_and_by_name(tmp_path):
    """A rule test is only as good as its reading of imports: every form a module can use is seen."""
    pkg = tmp_path / "studykit" / "cli"
    pkg.mkdir(parents=True)
    (tmp_path / "studykit" / "__init__.py").write_text("from . import errors\n")
    (pkg / "__init__.py").write_text("")
    (pkg / "cmd.py").write_text(
        "import os.path\n"
        "from .. import papers\n"
        "from ..check import spec\n"
        "def run():\n"
        "    import vit_impl.attention as a\n"
        "    class Lazy:\n"
        "        def go(self):\n"
        "            from swin_impl.model import SwinTransformer\n"
        "    importlib.import_module('deit_impl.equations')\n"
        "    __import__('mae_impl')\n"
        "    importlib.import_module(name)  # a variable: the registry's business, not a literal\n")
    names = {(imp.module, imp.name) for imp in imports_in("studykit", root=tmp_path)}
    assert names == {("studykit/__init__.py", "studykit"),
                     ("studykit/cli/cmd.py", "os.path"), ("studykit/cli/cmd.py", "studykit"),
                     ("studykit/cli/cmd.py", "studykit.check"), ("studykit/cli/cmd.py", "vit_impl.attention"),
                     ("studykit/cli/cmd.py", "deit_impl.equations"), ("studykit/cli/cmd.py", "mae_impl"),
                     ("studykit/cli/cmd.py", "swin_impl.model")}


def test_every_registered_paper_is_a_model_package():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["entry-points"]
    packages = model_packages()
    assert {_entry_point_package(v) for v in declared["studykit.papers"].values()} <= packages
    assert "vit_impl" in packages and not OURS & packages


def test_vault_export_imports_nothing_of_studykit_nor_a_model_package():
    offences = _offences(("vault_export",), OURS - {"vault_export"} | model_packages())
    assert not offences, "vault_export must stay the Obsidian side only:\n" + _listing(offences)


def test_studykit_reaches_model_packages_only_through_the_paper_registry():
    offences = [imp for imp in _offences(("studykit",), model_packages())
                if (imp.module, imp.package) not in PENDING]
    assert not offences, ("studykit imports a model package; reach it through studykit.papers (a registry "
                          "field named \"module:attr\" and papers.resolve):\n" + _listing(offences))


def test_model_packages_import_nothing_of_studykit_or_vault_export():
    offences = _offences(tuple(model_packages()), OURS)
    assert not offences, "a model package must stand alone:\n" + _listing(offences)


def test_pending_lists_only_live_offenders():
    live = {(imp.module, imp.package) for imp in _offences(("studykit",), model_packages())}
    stale = {entry: helper for entry, helper in PENDING.items() if entry not in live}
    assert not stale, f"fixed by a merge, remove from PENDING in {__file__}: {stale}"


# --- commands that need no torch, run as a user runs them -------------------------------------


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in {"torch"} | model_packages()}


def test_tick_imports_no_torch_nor_a_model_package(vault, imported_modules):
    (vault / "Plan.md").write_text("- [ ] read the paper\n- [ ] write PatchEmbed\n", encoding="utf-8")
    modules = imported_modules("tick", vault / "Plan.md", "PatchEmbed")
    assert "studykit.checklist" in modules and not _heavy(modules)
    assert "- [x] write PatchEmbed ✅" in (vault / "Plan.md").read_text(encoding="utf-8")


def test_sync_imports_no_torch_nor_a_model_package(tmp_path, vault, imported_modules):
    data = build_library(tmp_path / "Zotero", n_papers=3, annotations_per_paper=2)
    modules = imported_modules("sync", "--vault", vault, "--zotero-data-dir", data)
    assert "studykit.sources.zotero_db" in modules and not _heavy(modules)
    assert len(list((vault / "Papers").glob("*.md"))) == 3


def test_resync_of_a_registered_paper_imports_no_torch(vault, zotero_data_dir, imported_modules):
    """The first sync of the ViT paper draws its shape diagrams (torch, cached); the next needs neither."""
    assert main(["sync", "--vault", str(vault), "--zotero-data-dir", str(zotero_data_dir)]) == 0  # in this process
    modules = imported_modules("sync", "--vault", vault, "--zotero-data-dir", zotero_data_dir)
    assert "studykit.papers" in modules and not _heavy(modules)
