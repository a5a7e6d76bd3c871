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
# Kinds whose mark changes what the words mean, with what a note says of them.
KIND_LABELS = {
    "strikeout": "删除 struck out",
    "squiggly": "存疑 squiggly underline",
    "caret": "插入 suggested insertion",
}

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF points, origin top-left


@dataclass
class Reply:
    """A reply to an annotation (a PDF /IRT note, a comment thread entry)."""

    author: str = ""
    text: str = ""
    created: datetime | None = None

    def to_json(self) -> dict:
        return {"author": self.author, "text": self.text, "created": self.created.isoformat() if self.created else None}


@dataclass
class Annotation:
    """One mark the reader made on a page: a highlight, a note, an area, ..."""

    id: str  # the Zotero key, or for a PDF a hash of its /NM (else of its object number and content)
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
    replies: list[Reply] = field(default_factory=list)  # oldest first
    notice: str = ""  # why an area or ink mark has no picture, when it has none

    def thread(self) -> str:
        """The comment followed by one line per reply: '↳ author (date): text'."""
        lines = [self.comment] if self.comment else []
        for r in self.replies:
            when = f" ({r.created:%Y-%m-%d})" if r.created else ""
            lines.append(f"↳ {r.author or '?'}{when}: {r.text}")
        return "\n".join(lines)

    @property
    def kind_label(self) -> str:
        """What the note says of the kind, where the kind changes the meaning ('' for a highlight)."""
        return KIND_LABELS.get(self.kind, "")

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
            "notice": self.notice,
            "replies": [r.to_json() for r in self.replies],
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
    warnings: list[str] = field(default_factory=list)  # items skipped or damaged while reading, one line each

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
