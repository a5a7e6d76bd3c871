"""The learning guide note: the reader's ViT study plan, rendered into the vault.

Written once, then the reader's: their ticks, flashcard schedules and learning log live outside
managed regions and are never touched again; a later `write_guide` refreshes only the shape
walk-throughs (regions) and the properties.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

GUIDE_ID = "studykit:learning-guide:2010.11929"
GUIDE_FILENAME = "ViT 从零实现 - 学习指南"

# ViT-Base/16 on a batch of two 224x224 images, the numbers the guide's walk-throughs use.
_B, _C, _IMG, _P, _D, _HEADS, _DEPTH, _CLASSES = 2, 3, 224, 16, 768, 12, 12, 1000


def shapes() -> dict:
    """The sizes the guide's shape walk-throughs and answers are written with."""
    grid = _IMG // _P
    hidden = 4 * _D
    return dict(B=_B, C=_C, img=_IMG, P=_P, D=_D, heads=_HEADS, d=_D // _HEADS, depth=_DEPTH, classes=_CLASSES,
                grid=grid, N=grid * grid, T=grid * grid + 1, hidden=hidden,
                fc1_params=_D * hidden + hidden, fc2_params=hidden * _D + _D)


def render_guide(vault: Path, started: date | None = None) -> str:
    from studykit.config import load_config
    from studykit.render import render

    context = {"v": shapes(), "started": (started or date.today()).isoformat(), "arxiv": "2010.11929",
               "vault_arg": _shell_arg(vault)}
    return render("learning_guide.md.j2", context, vault=vault, config=load_config(vault))


def write_guide(vault: Path, *, dry_run: bool = False):
    """Create the learning guide note in `vault`, or refresh its walk-throughs; returns the NoteWrite."""
    from vault_export.sync import write_note
    from vault_export.vault import Vault

    vault = Path(vault)
    return write_note(Vault(vault), GUIDE_ID, render_guide(vault), GUIDE_FILENAME, folder="", dry_run=dry_run)


def _shell_arg(vault: Path) -> str:
    import shlex

    return shlex.quote(str(vault))


def write_demo_notes(vault: Path) -> list[tuple[Path, str]]:
    """The learning guide and the Dashboard for `studykit demo`: [(path, what it is)]."""
    from studykit.progress import write_dashboard

    guide = write_guide(vault)
    dashboard = write_dashboard(vault)
    return [(guide.path, "the learning guide: stages, exercises with [check:: ...], flashcards, learning log"),
            (dashboard.path, "the dashboard: progress per note and section, chart over time")]
