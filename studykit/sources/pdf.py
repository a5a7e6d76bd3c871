"""Annotations and metadata out of a PDF file, with PyMuPDF, in reading order, as the document says them.

What an annotation means in the reader's colour code is not decided here (studykit.taxonomy.classify).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from studykit.errors import UserError
from studykit.model import Annotation, Paper, Reply
from studykit.sources.pdf_layout import PageText
from studykit.sources.pdf_metadata import fill_metadata, paper_id, parse_pdf_date, title_from_page
from studykit.sources.pdf_open import one_line, open_pdf
from studykit.sources.pdf_pictures import Pictures, mark_area
from studykit.sources.pdf_text import LINE_END_HYPHENS, clean, join_lines, no_lone_surrogates, words

MARKUP = {"Highlight": "highlight", "Underline": "underline", "StrikeOut": "strikeout", "Squiggly": "squiggly"}
KIND_OF_SUBTYPE = {**MARKUP, "Text": "note", "FreeText": "freetext", "Square": "image", "Ink": "ink", "Caret": "caret"}
PICTURE_KINDS = ("image", "ink")
NEARBY_PAGES = 20  # the pages whose words decide a line-end hyphen: the whole of a short paper


def read_pdf(path, password: str | None = None, *, pictures: bool = True) -> Paper:
    """The Paper of a PDF file, with its annotations in reading order; warnings in paper.warnings.

    pictures=False leaves out drawing the PNG of each area and ink mark (its `image` stays None),
    for a reader that needs only the texts; whether a mark has an area to draw is still decided.
    """
    path = Path(path)
    doc = open_pdf(path, password)
    pymupdf = sys.modules["pymupdf"]
    try:
        reader = _Reader(doc, path, pictures)
        first = reader.page_text(0)  # read once for metadata and annotations
        paper = Paper(id=paper_id(doc, first.text, path.name), pdf_path=path.resolve())
        fill_metadata(paper, doc, first.text, lambda: title_from_page(first))
        for n in range(reader.page_count):
            paper.annotations.extend(reader.annotations(n))
        paper.warnings.extend(reader.warnings)
        _make_ids_unique(paper.annotations)
    except (RuntimeError, pymupdf.mupdf.FzErrorBase) as exc:  # MuPDF's errors on a damaged file
        raise UserError(f"{path}: damaged PDF: {one_line(exc)}") from None
    finally:
        doc.close()
    paper.annotations.sort(key=lambda a: a.sort_key)
    return paper


def _make_ids_unique(annotations: list[Annotation]) -> None:
    """Copies of one annotation (the same /NM pasted twice) get distinct ids, in file order."""
    seen: set[str] = set()
    for a in annotations:
        while a.id in seen:
            a.id = hashlib.sha1(f"again|{a.id}".encode()).hexdigest()[:16]
        seen.add(a.id)


# ---------------------------------------------------------------- annotations


class _Reader:
    """One open document: its pages' text and words, each read once, and what its annotations say."""

    def __init__(self, doc, path: Path, pictures: bool):
        self.doc = doc
        self.path = path
        self.page_count = doc.page_count
        self.warnings: list[str] = []
        self.pictures = Pictures(self.warn, draw=pictures)
        self.labelled = doc.xref_get_key(doc.pdf_catalog(), "PageLabels")[0] != "null"  # else labels are numbers
        # Only page 1 (metadata) and the page being read are kept: MuPDF slows down as open pages pile up.
        self._kept: dict[int, PageText] = {}
        self._page_words: dict[int, set[str]] = {}

    def page_text(self, n: int) -> PageText:
        if n not in self._kept:
            self._kept = {i: t for i, t in self._kept.items() if i == 0}
            self._kept[n] = PageText(self.doc.load_page(n))
        return self._kept[n]

    def near(self, n: int) -> Iterator[set[str]]:
        """Words to decide a line-end hyphen on page n with, already at hand: n's, then other pages' read before."""
        yield self._words(n)
        yield from (found for i, found in list(self._page_words.items()) if i != n)

    def far(self, n: int) -> Iterator[set[str]]:
        """Words of the pages around page n (the whole of a short document; NEARBY_PAGES of a long one)."""
        first = max(0, min(n - NEARBY_PAGES // 2, self.page_count - NEARBY_PAGES))
        yield from (self._words(i) for i in range(first, min(self.page_count, first + NEARBY_PAGES)))

    def _words(self, n: int) -> set[str]:
        if n not in self._page_words:
            text = self._kept[n] if n in self._kept else PageText(self.doc.load_page(n))  # not kept: read once
            self._page_words[n] = words(text.text)
        return self._page_words[n]

    def _label(self, page) -> str:
        """The page's label; "" where PyMuPDF cannot read the /PageLabels rule it falls under."""
        try:
            return page.get_label()
        except (ValueError, IndexError, TypeError, KeyError):  # PyMuPDF's rule_dict on a malformed rule
            return ""

    def warn(self, page: int, what: str) -> None:
        self.warnings.append(f"{self.path}: page {page}: {what}")

    def annotations(self, n: int) -> list[Annotation]:
        from studykit.sources.pdf_marks import PageMarks  # imports pymupdf: after import_pymupdf

        page_text = self.page_text(n)
        page = page_text.page
        annots = [a for a in PageMarks(page).marks() if a.type[1] in KIND_OF_SUBTYPE]
        if not annots:
            return []
        page_no = n + 1
        label = (self._label(page) if self.labelled else "") or str(page_no)
        result: dict[int, Annotation] = {}  # by xref, for replies to find their parent
        replies = []
        for annot in annots:
            if annot.irt_xref and _reply_type(annot) == "R":
                replies.append(annot)
                continue
            result[annot.xref] = self._annotation(annot, page_text, page_no, label)
        for annot in replies:
            info = annot.info
            reply = Reply(author=info.get("title") or "", text=_comment(annot, info),
                          created=parse_pdf_date(info.get("modDate") or info.get("creationDate")))
            parent = result.get(annot.irt_xref)
            if parent is not None:
                parent.replies.append(reply)
            elif reply.text:  # a reply to a mark studykit does not list: keep it as a note of its own
                note = self._annotation(annot, page_text, page_no, label)
                result[annot.xref] = note
        for a in result.values():
            a.replies.sort(key=lambda r: r.created or datetime.min.replace(tzinfo=timezone.utc))
        return list(result.values())

    def _annotation(self, annot, page_text: PageText, page_no: int, label: str) -> Annotation:
        kind = KIND_OF_SUBTYPE[annot.type[1]]
        info = annot.info
        quads = _quads(annot) if kind in MARKUP.values() else []
        place = mark_area(annot) if not quads or kind in PICTURE_KINDS else None  # a markup's quads are its place
        rects = quads or ([place] if place else [])
        comment = _comment(annot, info)
        a = Annotation(
            id=annotation_id(annot, info, page_no, kind, comment),
            kind=kind,
            page=page_no,
            page_label=label,
            text=self._text_under(quads, page_text) if quads else "",
            comment=comment,
            color=_color(tuple(annot.colors.get("stroke") or annot.colors.get("fill") or ())),
            rects=[(round(r[0], 2), round(r[1], 2), round(r[2], 2), round(r[3], 2)) for r in rects],
            created=parse_pdf_date(info.get("creationDate")),
            modified=parse_pdf_date(info.get("modDate")),
            author=info.get("title") or "",
        )
        if kind in PICTURE_KINDS:
            a.image, a.notice = self.pictures.picture(annot, kind, place, page_no)
        place_in_order = _position(rects[0], page_text, bool(quads)) if rects else (len(page_text.lines), True, 0, 0, 0)
        a.sort_key = (page_no, *place_in_order)
        return a

    def _text_under(self, quads, page_text: PageText) -> str:
        """Characters whose box is at least half inside a quad, lines joined as the document spells its words."""
        top, bottom = min(q[1] for q in quads), max(q[3] for q in quads)
        hit_lines = []  # (line, the quads crossing it), in reading order
        for line in page_text.lines_across(top, bottom):
            lx0, ly0, lx1, ly1 = line
            hits = [q for q in quads if q[0] < lx1 and q[2] > lx0 and q[1] < ly1 and q[3] > ly0]
            if hits:
                hit_lines.append((line, hits))
        if not hit_lines:
            return ""
        # Characters left of every quad cannot be chosen; those after the last chosen one tell a line-end hyphen.
        rows = page_text.chars_of_lines([line for line, _ in hit_lines], left=min(q[0] for q in quads))
        pieces: list[tuple[str, str]] = []  # (text, the hyphen that ends its line right after it)
        for line, hits in hit_lines:
            chars = rows.pop(line, ())  # lines with the same box (overprinted text) share one entry
            chosen = _chosen(chars, hits)
            if not chosen:
                continue
            text = "".join(chars[i]["c"] for i in chosen).strip()
            rest = "".join(c["c"] for c in chars[chosen[-1] + 1:]).strip()
            pieces.append((text, rest if rest in LINE_END_HYPHENS else ""))
        return clean(join_lines(pieces, _PageEvidence(self, page_text.page.number)))


@dataclass
class _PageEvidence:
    """The document's words as seen from one page (pdf_text.Evidence)."""

    reader: _Reader
    page: int

    def near(self) -> Iterator[set[str]]:
        return self.reader.near(self.page)

    def far(self) -> Iterator[set[str]]:
        return self.reader.far(self.page)


def _reply_type(annot) -> str:
    """'R' for a reply (the default of /RT), 'Group' for a mark grouped with its /IRT."""
    kind, value = annot.parent.parent.xref_get_key(annot.xref, "RT")
    return value.lstrip("/") if kind == "name" else "R"


def annotation_id(annot, info: dict, page: int, kind: str, comment: str) -> str:
    """A hash of the annotation's own name (/NM, PyMuPDF's info["id"]), which readers keep across saves;
    else of its object number and content. read_pdf makes ids unique within the file."""
    if nm := info.get("id"):
        identity = f"nm|{nm}"
    else:
        identity = f"xref|{annot.xref}|{kind}|{comment}|{tuple(round(v, 1) for v in annot.rect)}"
    return hashlib.sha1(f"{page}|{identity}".encode()).hexdigest()[:16]


def _quads(annot) -> list[tuple[float, float, float, float]]:
    vertices = [p for p in annot.vertices or () if isinstance(p, tuple)]  # not an /InkList's strokes
    quads = []
    for i in range(0, len(vertices) - 3, 4):
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = vertices[i:i + 4]
        quads.append((min(ax, bx, cx, dx), min(ay, by, cy, dy), max(ax, bx, cx, dx), max(ay, by, cy, dy)))
    return quads


def _comment(annot, info) -> str:
    text = info.get("content") or ""
    if not text and annot.popup_xref:  # some readers (Zotero's export) keep the text on the popup
        kind, value = annot.parent.parent.xref_get_key(annot.popup_xref, "Contents")
        if kind == "string":
            text = value
    return no_lone_surrogates(text).replace("\r\n", "\n").replace("\r", "\n").strip()


@lru_cache(maxsize=64)  # a paper's marks share a handful of colours
def _color(components: tuple[float, ...]) -> str | None:
    if not components:
        return None
    if len(components) == 1:
        components = components * 3
    elif len(components) == 4:  # CMYK
        c, m, y, k = components
        components = [(1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)]
    return "#" + "".join(f"{round(max(0.0, min(1.0, v)) * 255):02x}" for v in components[:3])


def _position(rect, page_text: PageText, on_text: bool) -> tuple:
    """Where an annotation sits in the page's reading order: a mark on text (on_text: `rect` is its
    first quad) at the first line the quad crosses, else at the line nearest its top-left corner.

    A quad is as tall as the font; MuPDF's line boxes run from the font's ascender to its descender,
    which in some fonts leaves the quad's corner nearer the line above than its own.
    """
    x, y = rect[0], rect[1]
    lines = page_text.lines
    if not lines:
        return (0, y, x)

    under = page_text.first_under(rect) if on_text else None
    rank = page_text.nearest(x, y) if under is None else under
    line = lines[rank]
    # Points below their nearest line (notes under the last line) come after the marks on it;
    # points beyond a line's ends (notes in the margin) sort by the end they are closest to.
    below = y > line[3]
    return (rank, below, min(max(x, line[0]), line[2]), y, x)


def _chosen(chars: list[dict], quads: list) -> list[int]:
    """Indexes of the characters whose box is at least half inside a quad (the quads crossing one line)."""
    left, right = min(q[0] for q in quads), max(q[2] for q in quads)
    chosen = []
    for i, c in enumerate(chars):  # min() and max() spelled out: this runs for every character under a mark
        x0, y0, x1, y1 = c["bbox"]
        if x1 < left or x0 > right:
            continue
        area = (x1 - x0) * (y1 - y0)
        for qx0, qy0, qx1, qy1 in quads:
            w = (qx1 if qx1 < x1 else x1) - (qx0 if qx0 > x0 else x0)
            h = (qy1 if qy1 < y1 else y1) - (qy0 if qy0 > y0 else y0)
            if (w > 0 and h > 0 and (area <= 0 or w * h >= 0.5 * area)) or (
                    area <= 0 and qx0 <= (x0 + x1) / 2 <= qx1 and qy0 <= (y0 + y1) / 2 <= qy1):
                chosen.append(i)
                break
    return chosen
