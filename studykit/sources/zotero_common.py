"""What the Zotero API reader and the zotero.sqlite reader share: item data -> Paper / Annotation.

Both readers hand over items in the Zotero API's own JSON shape (the `data` object), so one
conversion serves both and the two give the same Papers for the same library.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from studykit.errors import UserError
from studykit.model import Annotation, Paper
from vault_export.record import digest

# Zotero's annotationType -> the model's kind. itemAnnotations.type holds the index + 1.
ANNOTATION_TYPES = ("highlight", "note", "image", "ink", "underline", "text")
KIND_BY_TYPE = {"highlight": "highlight", "note": "note", "image": "image", "ink": "ink",
                "underline": "underline", "text": "freetext"}
# Kinds whose meaning is an area of the page, not words: they get a PNG of it.
PICTURE_KINDS = ("image", "ink")
# A group annotation whose author neither its own name nor the source can tell.
UNKNOWN_AUTHOR = "unknown"
RENDER_DPI = 150

NOT_PAPERS = ("attachment", "note", "annotation")
PDF = "application/pdf"
VENUE_FIELDS = ("publicationTitle", "proceedingsTitle", "conferenceName")
_ARXIV_ID = r"(\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_ARXIV_PATTERNS = [
    re.compile(r"10\.48550/arxiv\." + _ARXIV_ID, re.I),
    re.compile(r"arxiv\.org/(?:abs|pdf)/" + _ARXIV_ID, re.I),
    re.compile(r"\barxiv:\s*" + _ARXIV_ID, re.I),
]


@dataclass(frozen=True)
class Library:
    """A Zotero library: the user's own ("user", None) or a group ("group", its group id)."""

    type: str = "user"
    group_id: int | None = None

    @property
    def prefix(self) -> str:
        return "u" if self.type == "user" else f"g{self.group_id}"

    @property
    def uri_path(self) -> str:
        return "library" if self.type == "user" else f"groups/{self.group_id}"


@dataclass
class AttachmentData:
    """A PDF attachment with the data of its annotations, in API shape."""

    key: str
    pdf_path: Path | None
    annotations: list[dict]


def is_paper(item_type: str, parent: str | int | None, content_type: str | None) -> bool:
    """A regular item, or a PDF that hangs under no item: what becomes a Paper."""
    return item_type not in NOT_PAPERS or (not parent and is_pdf(item_type, content_type))


def is_pdf(item_type: str, content_type: str | None) -> bool:
    """A PDF attachment (under a paper or standalone)."""
    return item_type == "attachment" and content_type == PDF


def sort_key(sort_index: str) -> tuple[int, ...]:
    """'PPPPP|OOOOOO|TTTTT' (page, text offset, top) -> a tuple that sorts in reading order."""
    try:
        return tuple(int(part) for part in sort_index.split("|"))
    except (AttributeError, ValueError):
        return (10**9,)


def parse_date(value: str | None) -> datetime | None:
    """Zotero's UTC timestamps: '2024-01-05T10:00:00Z' (API) or '2024-01-05 10:00:00' (database)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def parse_extra(extra: str) -> dict[str, str]:
    """'Key: value' lines of the Extra field, keys lower-cased; the first of each wins."""
    fields: dict[str, str] = {}
    for line in (extra or "").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() and value.strip():
            fields.setdefault(name.strip().lower(), value.strip())
    return fields


def find_arxiv(*texts: str) -> str:
    """The arXiv id, without version, in a DOI, URL, Extra or archive id."""
    for text in texts:
        for pattern in _ARXIV_PATTERNS:
            if text and (match := pattern.search(text)):
                return match.group(1)
    return ""


def creator_name(creator: dict) -> str:
    if creator.get("name"):
        return creator["name"]
    return " ".join(p for p in (creator.get("firstName", ""), creator.get("lastName", "")) if p)


def tag_names(data: dict) -> list[str]:
    return sorted(t["tag"] for t in data.get("tags", ()))


def annotation_author(data: dict, library: Library, user: str | None) -> str:
    """The name the PDF gave, else the Zotero user who made it; in a group, never silently nobody."""
    name = data.get("annotationAuthorName") or user or ""
    return name or (UNKNOWN_AUTHOR if library.type == "group" else "")


# Zotero makes keys of 8 characters from 23456789ABCDEFGHIJKLMNPQRSTUVWXYZ (zotero/zotero-android,
# sync/KeyGenerator.kt); any 8 letters and digits pass, so only what cannot be a key is refused.
_KEY = re.compile(r"[A-Z0-9]{8}")


def item_key(text: str) -> str:
    """A key as the reader typed it, in capitals; one line when it cannot be a Zotero key, before
    anything is built from it (an empty key asked the API for the whole listing)."""
    key = text.strip().upper()
    if not _KEY.fullmatch(key):
        raise UserError(f"not a Zotero item key: {text!r} (8 letters and digits, as in ABCD2345)")
    return key


def select_link(library: Library, key: str) -> str:
    return f"zotero://select/{library.uri_path}/items/{key}"


def open_pdf_link(library: Library, attachment_key: str, page: int, annotation_key: str) -> str:
    return (f"zotero://open-pdf/{library.uri_path}/items/{attachment_key}"
            f"?page={page}&annotation={annotation_key}")


def paper_id(library: Library, key: str) -> str:
    """The Paper id (the note's studykit-id) of the item `key` in `library`."""
    return f"zotero:{library.prefix}:{key}"


def paper_from_data(data: dict, library: Library, *, pdf_path: Path | None = None,
                    citekey_fallback: str = "") -> Paper:
    """A Paper from an item's API-shaped data (a regular item, or a standalone PDF)."""
    extra = data.get("extra", "")
    extra_fields = parse_extra(extra)
    doi = data.get("DOI") or extra_fields.get("doi", "")
    url = data.get("url", "")
    creators = data.get("creators", [])
    authors = [c for c in creators if c.get("creatorType") == "author"] or creators
    year = re.search(r"(?<!\d)(\d{4})(?!\d)", data.get("date", ""))
    key = data["key"]
    return Paper(
        id=paper_id(library, key),
        title=data.get("title", ""),
        authors=[creator_name(c) for c in authors],
        year=int(year.group(1)) if year else None,
        venue=next((data[f] for f in VENUE_FIELDS if data.get(f)), ""),
        doi=doi,
        arxiv=find_arxiv(doi, url, data.get("archiveID", ""), extra),
        url=url,
        abstract=data.get("abstractNote", ""),
        citekey=data.get("citationKey") or extra_fields.get("citation key") or citekey_fallback,
        zotero_key=key,
        zotero_link=select_link(library, key),
        pdf_path=pdf_path,
        tags=tag_names(data),
    )


def _rects(position: dict) -> list[tuple[float, float, float, float]]:
    rects = [tuple(float(v) for v in r[:4]) for r in position.get("rects", ())]
    if not rects and position.get("paths"):  # ink: strokes, not rectangles
        points = [p for path in position["paths"] for p in zip(path[::2], path[1::2])]
        pad = float(position.get("width", 0)) / 2
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        rects = [(min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)]
    return rects


def _position(data: dict) -> tuple[int, list, list]:
    """Page index, rectangles (PDF user space, origin bottom-left, unrotated) and the rectangles
    on the next page of a highlight that runs on (Zotero's `nextPageRects`)."""
    try:
        position = json.loads(data.get("annotationPosition") or "{}")
    except json.JSONDecodeError:
        position = {}
    following = [tuple(float(v) for v in r[:4]) for r in position.get("nextPageRects", ())]
    return int(position.get("pageIndex", 0)), _rects(position), following


def annotation_from_data(data: dict, library: Library, attachment_key: str, *,
                         order: int = 0) -> tuple[Annotation, tuple[list, list]]:
    """An Annotation (rects still unset) and its rectangles in PDF user space, on its page
    and on the next one."""
    page_index, pdf_rects, next_rects = _position(data)
    page = page_index + 1
    color = (data.get("annotationColor") or "").lower() or None
    comment = data.get("annotationComment", "") or ""
    tags = tag_names(data)
    annotation = Annotation(
        id=data["key"],
        kind=KIND_BY_TYPE.get(data.get("annotationType", ""), "note"),
        page=page,
        text=data.get("annotationText", "") or "",
        comment=comment,
        color=color,
        page_label=data.get("annotationPageLabel", "") or "",
        created=parse_date(data.get("dateAdded")),
        modified=parse_date(data.get("dateModified")),
        author=data.get("annotationAuthorName", ""),
        tags=tags,
        link=open_pdf_link(library, attachment_key, page, data["key"]),
        sort_key=(order, *sort_key(data.get("annotationSortIndex", ""))),
    )
    return annotation, (pdf_rects, next_rects)


def place_on_pdf(placed: list[tuple[Annotation, tuple[list, list]]], pdf_path: Path | None,
                 cached_image: Callable[[str], bytes | None]) -> None:
    """Give annotations their rects in unrotated page coordinates (origin top-left, as PyMuPDF's
    annotation rects) and area pictures.

    Rects need the page's box, so without the PDF they stay empty rather than be given in
    another coordinate system; a highlight that runs onto the next page gets that page's boxes
    after its own. A picture comes from Zotero's cache, else is rendered; the clip goes through
    the page's rotation, since a rotated page's pixmap is drawn as shown.
    """
    doc = None
    if pdf_path is not None and pdf_path.is_file() and placed:
        import pymupdf  # heavy: only when there is a PDF to look at

        try:
            doc = pymupdf.open(pdf_path)
        except (pymupdf.FileDataError, RuntimeError):
            doc = None  # a damaged attachment: the words and comments still count

    def page_at(number: int):
        return doc[number - 1] if doc is not None and 0 < number <= len(doc) else None

    try:
        for annotation, (pdf_rects, next_rects) in placed:
            page = page_at(annotation.page)
            boxes = []
            if page is not None:
                boxes = [pymupdf.Rect(r) * page.transformation_matrix for r in pdf_rects]
                following = page_at(annotation.page + 1) if next_rects else None
                extra = [pymupdf.Rect(r) * following.transformation_matrix for r in next_rects] if following else []
                annotation.rects = [tuple(round(v, 2) for v in box) for box in boxes + extra]
            if annotation.kind in PICTURE_KINDS:
                annotation.image = cached_image(annotation.id)
                if annotation.image is None and boxes:
                    area = pymupdf.Rect(boxes[0])
                    for box in boxes[1:]:
                        area |= box
                    area = area * page.rotation_matrix & page.rect
                    if not area.is_empty:
                        annotation.image = page.get_pixmap(clip=area, dpi=RENDER_DPI).tobytes("png")
    finally:
        if doc is not None:
            doc.close()


def build_paper(data: dict, library: Library, attachments: Iterable[AttachmentData], *,
                citekey_fallback: str = "",
                cached_image: Callable[[str], bytes | None] = lambda key: None) -> Paper:
    """The Paper of one item with the annotations of its PDFs, in reading order.

    `attachments` come in the order the reader wants them (oldest first). An annotation's
    `annotationAuthorName` carries its author: the name the PDF gave, else the Zotero user.
    """
    attachments = list(attachments)
    pdf_path = next((a.pdf_path for a in attachments if a.pdf_path is not None), None)
    paper = paper_from_data(data, library, pdf_path=pdf_path, citekey_fallback=citekey_fallback)
    for order, attachment in enumerate(attachments):
        placed = [annotation_from_data(d, library, attachment.key, order=order)
                  for d in attachment.annotations]
        place_on_pdf(placed, attachment.pdf_path, cached_image)
        paper.annotations.extend(a for a, _ in placed)
    paper.annotations.sort(key=lambda a: (a.sort_key, a.id))
    return paper


def item_order(data: dict) -> tuple:
    """Papers come oldest first, as the library grew; the key breaks ties."""
    return (parse_date(data.get("dateAdded")) or datetime.min.replace(tzinfo=timezone.utc), data["key"])


def change_stamp(parts: object) -> str:
    """A digest of what a paper's note is made of, given as plain values: both readers' change stamps."""
    return digest(repr(parts).encode("utf-8", "surrogatepass"))
