"""What a selection by key, collection or tag means, the same for the API and the database reader.

A key picks a whole paper (a regular item, or a PDF that hangs under no item) or one PDF of
its paper; picks add up, and a paper picked whole stays whole. What cannot be picked (an item
in the trash, an annotation, a note) and what no library has end in one line saying so.
"""

from __future__ import annotations

from typing import Callable, Literal, TypeVar

from studykit.errors import UserError
from studykit.sources.zotero_common import is_paper, is_pdf

Paper = TypeVar("Paper")


def what_key_picks(key: str, item_type: str, parent: object, content_type: str | None, trashed: bool,
                   annotation_owner: Callable[[], tuple[str, str | None]]) -> Literal["paper", "pdf"]:
    """'paper' when selecting `key` picks the item itself, 'pdf' when one PDF of its parent paper.

    `trashed`: the item or its parent is in the trash. `annotation_owner()` gives (PDF key,
    paper key or None) of an annotation, asked only when `key` is one.
    """
    if trashed:
        raise UserError(f"Zotero item {key} is in the trash")
    if item_type == "annotation":
        raise UserError(annotation_selected(key, *annotation_owner()))
    if is_paper(item_type, parent, content_type):
        return "paper"
    if is_pdf(item_type, content_type):
        return "pdf"
    raise UserError(f"Zotero item {key} is not a paper or a PDF attachment (it is a {item_type})")


def add_pick(picks: dict[Paper, set | None], paper: Paper, pdf: object = None) -> None:
    """Pick `paper` whole (`pdf` None), or one more of its PDFs unless it is picked whole already."""
    if pdf is None or picks.get(paper, set()) is None:
        picks[paper] = None
    else:
        picks.setdefault(paper, set()).add(pdf)


def annotation_selected(key: str, attachment_key: str, paper_key: str | None) -> str:
    """What to say when the reader selects an annotation's key instead of its paper's."""
    owner = f"paper {paper_key}" if paper_key else "a standalone PDF"
    return (f"Zotero item {key} is an annotation (on PDF {attachment_key} of {owner}): "
            f"select zotero:{paper_key or attachment_key} instead")


def no_item(key: str, where: str) -> UserError:
    return UserError(f"no Zotero item with key {key} in {where}")


def no_collection(wanted: str, names: set[str]) -> UserError:
    return UserError(f"no Zotero collection named or keyed {wanted!r} (collections: {', '.join(sorted(names)) or 'none'})")


def no_tag(tag: str) -> UserError:
    return UserError(f"no Zotero item has the tag {tag!r}")
