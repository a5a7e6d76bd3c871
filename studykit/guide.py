"""The learning guide notes and their flashcards notes: the reader's study plan, one guide per paper whose
registry gives a stage (`PaperRegistry.guide`), rendered into the vault.

Written once, then the reader's: their ticks, flashcard schedules and learning log live outside
managed regions and are never touched again; a later `write_guide` refreshes only the shape
walk-throughs (regions) and the properties. The flashcards have a note of their own because the
Spaced Repetition plugin reads every "::" line of a note with its tag as a card, and the guide's
exercises carry Dataview fields (`[check:: PatchEmbed]`). ViT, the first paper of the learning
path, has the guide's own templates; every other paper's stage and cards are Jinja text in its registry.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from studykit.errors import UserError

ARXIV = "2010.11929"  # the learning path's first paper: `studykit guide` and the demo lead with its guide
GUIDE_ID = f"studykit:learning-guide:{ARXIV}"
GUIDE_FILENAME = "ViT 从零实现 - 学习指南"
FLASHCARDS_ID = f"studykit:flashcards:{ARXIV}"
FLASHCARDS_FILENAME = "ViT 自测卡片 Flashcards"
# A flashcard tag in a note's text, as Spaced Repetition matches it (#flashcards, #flashcards/vit, ...).
_FLASHCARD_TAG = re.compile(r"(?:^|\s)#flashcards(?:/|\s|$)", re.M)


def stages() -> dict:
    """Every installed paper's guide stage (studykit.papers.GuideStage), by arXiv id, the first paper first."""
    import warnings

    from studykit.papers import registries, resolve

    found = {}
    for arxiv, registry in registries().items():
        if not getattr(registry, "guide", ""):  # a registry written before guide stages has none
            continue
        try:
            found[arxiv] = resolve(registry.guide)
        except Exception as exc:  # as for a registry: a broken plugin must not stop studykit, nor hide
            warnings.warn(f"{arxiv}: guide stage {registry.guide!r} failed to load: {exc}", stacklevel=2)
    return dict(sorted(found.items(), key=lambda item: item[0] != ARXIV))


def names(arxiv: str, stage) -> tuple[str, str, str, str]:
    """(guide id, guide file name, flashcards id, flashcards file name) of a paper's guide."""
    return (f"studykit:learning-guide:{arxiv}", f"{stage.title} - 学习指南",
            f"studykit:flashcards:{arxiv}", f"{stage.name} 自测卡片 Flashcards")


def shapes() -> dict:
    """The sizes the ViT guide's shape walk-throughs and answers are written with (from ViT's registry)."""
    stage = stages().get(ARXIV)
    if stage is None:
        raise UserError(f"the learning guide's first paper (arXiv {ARXIV}) has no installed registry with a guide")
    return dict(stage.values)


def render_guide(vault: Path, started: date | None = None, arxiv: str = ARXIV) -> str:
    from studykit.config import load_config
    from studykit.render import render

    vault = Path(vault)
    started = (started or date.today()).isoformat()
    if arxiv == ARXIV:
        context = {"v": shapes(), "started": started, "arxiv": ARXIV,
                   "paper_note": paper_note_link(vault), "flashcards": FLASHCARDS_FILENAME}
        return render("learning_guide.md.j2", context, vault=vault, config=load_config(vault))
    stage = stages()[arxiv]
    context = {"title": stage.title, "name": stage.name, "arxiv": arxiv, "started": started,
               "paper_note": paper_note_link(vault, arxiv), "flashcards": names(arxiv, stage)[3],
               "stage": _expand(stage.stage, stage.values)}
    return render("paper_guide.md.j2", context, vault=vault, config=load_config(vault))


def render_flashcards(vault: Path, arxiv: str = ARXIV) -> str:
    from studykit.config import load_config
    from studykit.render import render

    if arxiv == ARXIV:
        return render("flashcards.md.j2", {"v": shapes(), "guide": GUIDE_FILENAME}, vault=vault,
                      config=load_config(vault))
    stage = stages()[arxiv]
    context = {"name": stage.name, "guide": names(arxiv, stage)[1], "cards": _expand(stage.cards, stage.values)}
    return render("paper_flashcards.md.j2", context, vault=vault, config=load_config(vault))


def _expand(source: str, values) -> str:
    """A registry's Jinja text rendered with `v`, with the templates' `region` filter."""
    import jinja2

    from studykit.render import region

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=False)
    env.filters["region"] = region
    return env.from_string(source).render(v=values)


def paper_note_link(vault: Path, arxiv: str = ARXIV) -> str:
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
        if found and arxiv_id(str(found)) == arxiv:
            return v.link(path)[:-3]
    return ""


def write_guide(vault: Path, *, arxiv: str = ARXIV, dry_run: bool = False):
    """Create a paper's learning guide note in `vault`, or refresh its walk-throughs; returns the NoteWrite.

    The flashcards note is written beside it, unless the guide already holds the deck (a guide
    written before the cards had their own note): a reviewed deck is never doubled.
    """
    from vault_export.sync import write_note
    from vault_export.vault import Vault

    vault = Path(vault)
    v = Vault(vault)
    stage = stages().get(arxiv)
    if stage is None:
        raise UserError(f"arXiv {arxiv}: no installed paper registry gives a learning guide stage")
    guide_id, guide_name, cards_id, cards_name = names(arxiv, stage)
    result = write_note(v, guide_id, render_guide(vault, arxiv=arxiv), guide_name, folder="", dry_run=dry_run)
    if not _holds_flashcards(result.path):
        write_note(v, cards_id, render_flashcards(vault, arxiv), cards_name, folder="", dry_run=dry_run)
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
    """The learning guides, their flashcards and the Dashboard for `studykit demo`: [(path, what it is)]."""
    from studykit.progress import write_dashboard
    from vault_export.vault import Vault

    rows = []
    for arxiv, stage in stages().items():
        write_guide(vault, arxiv=arxiv)
        guide_id, _, cards_id, _ = names(arxiv, stage)
        rows.append((Vault(vault).find_by_id(guide_id),
                     f"the {stage.name} learning guide: stages, exercises with [check:: ...], learning log"))
        cards = Vault(vault).find_by_id(cards_id)
        if cards:
            rows.append((cards, f"the {stage.name} flashcards, for the Spaced Repetition plugin"))
    dashboard = write_dashboard(vault)
    return [*rows, (dashboard.path, "the dashboard: progress per note and section, chart over time")]
