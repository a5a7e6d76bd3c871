"""The learning guide note and its flashcards note: the reader's ViT study plan, rendered into the vault.

Written once, then the reader's: their ticks, flashcard schedules and learning log live outside
managed regions and are never touched again; a later `write_guide` refreshes only the shape
walk-throughs (regions) and the properties. The flashcards have a note of their own because the
Spaced Repetition plugin reads every "::" line of a note with its tag as a card, and the guide's
exercises carry Dataview fields (`[check:: PatchEmbed]`).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

ARXIV = "2010.11929"
GUIDE_ID = f"studykit:learning-guide:{ARXIV}"
GUIDE_FILENAME = "ViT 从零实现 - 学习指南"
FLASHCARDS_ID = f"studykit:flashcards:{ARXIV}"
FLASHCARDS_FILENAME = "ViT 自测卡片 Flashcards"
# A flashcard tag in a note's text, as Spaced Repetition matches it (#flashcards, #flashcards/vit, ...).
_FLASHCARD_TAG = re.compile(r"(?:^|\s)#flashcards(?:/|\s|$)", re.M)

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

    context = {"v": shapes(), "started": (started or date.today()).isoformat(), "arxiv": ARXIV,
               "paper_note": paper_note_link(Path(vault)), "flashcards": FLASHCARDS_FILENAME}
    return render("learning_guide.md.j2", context, vault=vault, config=load_config(vault))


def render_flashcards(vault: Path) -> str:
    from studykit.config import load_config
    from studykit.render import render

    return render("flashcards.md.j2", {"v": shapes(), "guide": GUIDE_FILENAME}, vault=vault, config=load_config(vault))


def paper_note_link(vault: Path) -> str:
    """The vault path (no .md) of the note of the guide's paper, matched by its `arxiv` property; "" if none."""
    from studykit.papers import arxiv_id
    from vault_export import frontmatter
    from vault_export.vault import Vault

    v = Vault(vault)
    for path in v.notes():
        try:
            yaml_text = frontmatter.split(path.read_text(encoding="utf-8")).yaml
            found = frontmatter.read_key(yaml_text, "arxiv")
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        if found and arxiv_id(str(found)) == ARXIV:
            return v.link(path)[:-3]
    return ""


def write_guide(vault: Path, *, dry_run: bool = False):
    """Create the learning guide note in `vault`, or refresh its walk-throughs; returns the NoteWrite.

    The flashcards note is written beside it, unless the guide already holds the deck (a guide
    written before the cards had their own note): a reviewed deck is never doubled.
    """
    from vault_export.sync import write_note
    from vault_export.vault import Vault

    vault = Path(vault)
    v = Vault(vault)
    result = write_note(v, GUIDE_ID, render_guide(vault), GUIDE_FILENAME, folder="", dry_run=dry_run)
    if not _holds_flashcards(result.path):
        write_note(v, FLASHCARDS_ID, render_flashcards(vault), FLASHCARDS_FILENAME, folder="", dry_run=dry_run)
    return result


MIXED_DECK_HINT = ("{path}: the flashcards share this note with exercises, and Spaced Repetition reads each "
                   "'[check:: ...]' task line as a card; move the cards (from the flashcards tag on) into a note "
                   "of their own, and their review history goes with them")


def cards_beside_exercises(path: Path | None) -> bool:
    """A guide written before the cards had their own note: a flashcards tag and task lines holding `::`."""
    if not _holds_flashcards(path):
        return False
    return any(re.match(r"\s*[-*+] \[.\] .*::", line) for line in path.read_text(encoding="utf-8").splitlines())


def _holds_flashcards(path: Path | None) -> bool:
    try:
        return bool(path) and bool(_FLASHCARD_TAG.search(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError):
        return False


def write_demo_notes(vault: Path) -> list[tuple[Path, str]]:
    """The learning guide, its flashcards and the Dashboard for `studykit demo`: [(path, what it is)]."""
    from studykit.progress import write_dashboard
    from vault_export.vault import Vault

    guide = write_guide(vault)
    cards = Vault(vault).find_by_id(FLASHCARDS_ID)
    dashboard = write_dashboard(vault)
    rows = [(guide.path, "the learning guide: stages, exercises with [check:: ...], troubleshooting, learning log")]
    if cards:
        rows.append((cards, "the flashcards, for the Spaced Repetition plugin"))
    return [*rows, (dashboard.path, "the dashboard: progress per note and section, chart over time")]
