"""The domain model: a Paper and the Annotations the reader made on it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


class Category(str, enum.Enum):
    """What a highlight means in the reader's colour code."""

    CONTRIBUTION = "contribution"  # red
    DEFINITION = "definition"  # yellow
    FORMULA = "formula"  # blue
    RESULT = "result"  # green
    METHOD = "method"  # purple
    LIMITATION = "limitation"  # orange
    BACKGROUND = "background"  # gray
    QUESTION = "question"  # cyan / magenta
    UNCATEGORIZED = "uncategorized"

    def __str__(self) -> str:
        return self.value


KINDS = ("highlight", "underline", "strikeout", "squiggly", "note", "freetext", "image", "ink", "caret")

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF points, origin top-left


@dataclass
class Annotation:
    """One mark the reader made on a page: a highlight, a note, an area, ..."""

    id: str  # the Zotero key, or for a PDF a hash of page + kind + rects
    kind: str  # one of KINDS
    page: int  # 1-based
    text: str = ""  # the words under a highlight / underline / strikeout / squiggly
    comment: str = ""
    color: str | None = None  # "#rrggbb"
    category: Category = Category.UNCATEGORIZED
    page_label: str = ""
    rects: list[Rect] = field(default_factory=list)
    created: datetime | None = None
    modified: datetime | None = None
    author: str = ""
    tags: list[str] = field(default_factory=list)
    image: bytes | None = None  # PNG of the area, for image and ink annotations
    link: str = ""  # back link to its place: zotero://open-pdf/... or file.pdf#page=N
    sort_key: tuple = ()  # reading order within the paper

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "page": self.page,
            "page_label": self.page_label,
            "text": self.text,
            "comment": self.comment,
            "color": self.color,
            "category": self.category.value,
            "tags": list(self.tags),
            "author": self.author,
            "created": self.created.isoformat() if self.created else None,
            "modified": self.modified.isoformat() if self.modified else None,
            "rects": [list(r) for r in self.rects],
            "link": self.link,
            "has_image": self.image is not None,
        }


@dataclass
class Paper:
    """A paper and, once read from its source, its annotations in reading order."""

    id: str  # stable identity across re-syncs: "zotero:<library>:<KEY>" or "pdf:<hash>"
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    venue: str = ""
    doi: str = ""
    arxiv: str = ""
    url: str = ""
    abstract: str = ""
    citekey: str = ""
    zotero_key: str = ""
    zotero_link: str = ""  # zotero://select/... for the item
    pdf_path: Path | None = None
    tags: list[str] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "authors": list(self.authors),
            "year": self.year,
            "venue": self.venue,
            "doi": self.doi,
            "arxiv": self.arxiv,
            "url": self.url,
            "citekey": self.citekey,
            "zotero_key": self.zotero_key,
            "zotero_link": self.zotero_link,
            "pdf_path": str(self.pdf_path) if self.pdf_path else None,
            "tags": list(self.tags),
            "annotations": [a.to_json() for a in self.annotations],
        }
