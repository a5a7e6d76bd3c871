"""Annotations and metadata out of a PDF file, with PyMuPDF, in reading order."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from studykit.errors import UserError
from studykit.model import Annotation, Paper

MARKUP = {"Highlight": "highlight", "Underline": "underline", "StrikeOut": "strikeout", "Squiggly": "squiggly"}
KIND_OF_SUBTYPE = {**MARKUP, "Text": "note", "FreeText": "freetext", "Square": "image", "Ink": "ink", "Caret": "caret"}
IMAGE_DPI = 150
TEXT_FLAGS = 2 | 64  # pymupdf.TEXT_PRESERVE_WHITESPACE | TEXT_MEDIABOX_CLIP (no images: faster)

ARXIV_RE = re.compile(r"\barXiv:\s*(\d{4}\.\d{4,5}|[a-z][a-z.-]+/\d{7})(?:v\d+)?", re.I)
ARXIV_BARE_RE = re.compile(r"(?<![\d.])((?:0[7-9]|[12]\d)(?:0[1-9]|1[0-2])\.\d{4,5})(?:v\d+)?(?![\d.])")
DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;)\]])")
PDF_DATE_RE = re.compile(r"D?:?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*([Zz+-])?\s*(\d{2})?'?(\d{2})?'?")
LIGATURES = re.compile("[\ufb00-\ufb17]")
_JUNK_TITLE = re.compile(r"^(untitled|microsoft word - .*|.*\.(pdf|docx?|dvi|tex|ps))$", re.I)


def read_pdf(path, password: str | None = None, taxonomy=None) -> Paper:
    """The Paper of a PDF file, with its annotations in reading order, sorted by `taxonomy` (default code)."""
    from studykit.taxonomy import Taxonomy

    path = Path(path)
    taxonomy = taxonomy or Taxonomy.default()
    doc = _open(path, password)
    try:
        first = doc[0]
        first_textpage = first.get_textpage(flags=TEXT_FLAGS)  # read once for metadata and annotations
        first_text = first.get_text(textpage=first_textpage)
        paper = Paper(id=paper_id(doc, first_text), pdf_path=path.resolve())
        _fill_metadata(paper, doc, first_text, lambda: _title_from_page(first, first_textpage))
        for n in range(doc.page_count):
            page, textpage = (first, first_textpage) if n == 0 else (doc[n], None)
            paper.annotations.extend(_page_annotations(page, taxonomy, textpage))
    except RuntimeError as exc:  # MuPDF errors on a damaged page
        raise UserError(f"{path}: damaged PDF: {exc}") from None
    finally:
        doc.close()
    paper.annotations.sort(key=lambda a: a.sort_key)
    return paper


def _open(path: Path, password: str | None):
    import pymupdf

    if not path.is_file():
        raise UserError(f"{path}: no such file")
    with path.open("rb") as f:
        head = f.read(1024)
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 2048))
        tail = f.read()
    if b"%PDF-" not in head:
        raise UserError(f"{path}: not a PDF (no %PDF- header)")
    if b"%%EOF" not in tail:
        raise UserError(f"{path}: truncated PDF (no %%EOF at the end of the file)")
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # MuPDF raises its own FileDataError and RuntimeErrors
        raise UserError(f"{path}: corrupt PDF: {exc}") from None
    if doc.needs_pass:
        if password is None:
            doc.close()
            raise UserError(f"{path}: encrypted PDF: give its password with --password")
        if not doc.authenticate(password):
            doc.close()
            raise UserError(f"{path}: wrong password for this encrypted PDF")
    if doc.page_count == 0:
        doc.close()
        raise UserError(f"{path}: corrupt PDF: no pages")
    return doc


def paper_id(doc, first_text: str) -> str:
    """'pdf:' + a hash of the document's identity, which survives saving annotations into it.

    The first element of the trailer /ID is kept by every save (incremental or full); a file
    without one falls back to its metadata and first-page text, which saving does not touch.
    """
    kind, value = doc.xref_get_key(-1, "ID")
    m = re.match(r"\[\s*<([0-9A-Fa-f]*)>", value) if kind == "array" else None
    if m and m.group(1):
        identity = "id:" + m.group(1).lower()
    else:
        meta = doc.metadata or {}
        identity = "text:" + "|".join(
            [meta.get("title") or "", meta.get("author") or "", meta.get("creationDate") or "", " ".join(first_text.split())]
        )
    return "pdf:" + hashlib.sha1(identity.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------- metadata


def _fill_metadata(paper: Paper, doc, first_text: str, title_from_page) -> None:
    meta = doc.metadata or {}
    title = (meta.get("title") or "").strip()
    paper.title = title if title and not _JUNK_TITLE.match(title) else title_from_page()
    author = (meta.get("author") or "").strip()
    if author:
        paper.authors = [a.strip() for a in re.split(r";|,|\band\b|&", author) if a.strip()]
    haystack = "\n".join([meta.get("subject") or "", meta.get("keywords") or "", first_text])
    if m := ARXIV_RE.search(haystack) or ARXIV_BARE_RE.search(first_text[:3000]):
        paper.arxiv = m.group(1)
    if m := DOI_RE.search(haystack):
        paper.doi = m.group(1)
    if paper.arxiv and paper.arxiv[:4].isdigit():
        paper.year = 2000 + int(paper.arxiv[:2])
    elif created := parse_pdf_date(meta.get("creationDate")):
        paper.year = created.year
    if paper.arxiv:
        paper.url = f"https://arxiv.org/abs/{paper.arxiv}"
    elif paper.doi:
        paper.url = f"https://doi.org/{paper.doi}"


def _title_from_page(page, textpage) -> str:
    """The largest text in the top half of the first page."""
    spans = []
    for block in page.get_text("dict", textpage=textpage)["blocks"]:
        for line in block.get("lines", ()):
            text = "".join(s["text"] for s in line["spans"]).strip()
            if len(text) >= 3 and line["bbox"][3] <= page.rect.height / 2:
                spans.append((max(s["size"] for s in line["spans"]), text))
    if not spans:
        return ""
    biggest = max(size for size, _ in spans)
    return _clean(" ".join(text for size, text in spans if size >= biggest - 0.5))


def parse_pdf_date(value: str | None) -> datetime | None:
    """'D:20170302143000+01'00'' -> an aware datetime; None when absent or malformed."""
    if not value:
        return None
    m = PDF_DATE_RE.match(value.strip())
    if not m:
        return None
    year, month, day, hour, minute, second, sign, tz_h, tz_m = m.groups()
    tz = timezone.utc if sign in ("Z", "z") else None
    if sign in ("+", "-"):
        offset = timedelta(hours=int(tz_h or 0), minutes=int(tz_m or 0))
        tz = timezone(offset if sign == "+" else -offset)
    try:
        return datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                        int(second or 0), tzinfo=tz)
    except ValueError:
        return None


# ---------------------------------------------------------------- layout


@dataclass
class _Line:
    bbox: tuple[float, float, float, float]
    chars: list  # rawdict chars: {"c": str, "bbox": (x0, y0, x1, y1), ...}


def _page_lines(page, textpage=None) -> list[_Line]:
    lines = []
    for block in page.get_text("rawdict", flags=TEXT_FLAGS, textpage=textpage)["blocks"]:
        for line in block.get("lines", ()):
            chars = [c for span in line["spans"] for c in span["chars"]]
            if any(not c["c"].isspace() for c in chars):
                lines.append(_Line(tuple(line["bbox"]), chars))
    return lines


def reading_order(lines: list[_Line], x0: float, x1: float) -> list[_Line]:
    """Lines in reading order: columns left to right within bands cut by lines that span them."""
    gutter = _find_gutter(lines, x0, x1)
    if gutter is None:
        return sorted(lines, key=lambda ln: (round((ln.bbox[1] + ln.bbox[3]) / 6), ln.bbox[0]))
    g0, g1 = gutter
    ordered: list[_Line] = []
    left: list[_Line] = []
    right: list[_Line] = []

    def flush() -> None:
        ordered.extend(reading_order(left, x0, g0) + reading_order(right, g1, x1))
        left.clear()
        right.clear()

    for line in sorted(lines, key=lambda ln: ln.bbox[1]):
        lx0, _, lx1, _ = line.bbox
        if lx1 <= g0 + 1:
            left.append(line)
        elif lx0 >= g1 - 1:
            right.append(line)
        else:  # spans the gutter: a title, a wide figure or its caption
            flush()
            ordered.append(line)
    flush()
    return ordered


def _find_gutter(lines: list[_Line], x0: float, x1: float) -> tuple[float, float] | None:
    """The widest vertical strip in the middle of [x0, x1] that few text lines cross, with text on both sides.

    Only lines of some length count: table cells and figure labels are short and sit anywhere.
    """
    width = x1 - x0
    text = [ln for ln in lines if ln.bbox[2] - ln.bbox[0] >= 0.15 * width]
    if len(text) < 6:
        return None
    edges = sorted({round(v) for ln in text for v in (ln.bbox[0], ln.bbox[2])
                    if x0 + 0.2 * width <= v <= x1 - 0.2 * width})
    need = max(3, len(text) // 8)
    best = None
    for a, b in zip(edges, edges[1:]):
        if b - a < 4:
            continue
        left = sum(1 for ln in text if ln.bbox[2] <= a + 1)
        right = sum(1 for ln in text if ln.bbox[0] >= b - 1)
        crossing = len(text) - left - right
        if left < need or right < need or crossing > 0.15 * min(left, right):
            continue
        score = (crossing, -(b - a), abs((a + b) / 2 - (x0 + x1) / 2))
        if best is None or score < best[0]:
            best = (score, (a, b))
    return best[1] if best else None


# ---------------------------------------------------------------- annotations


def _page_annotations(page, taxonomy, textpage=None) -> list[Annotation]:
    annots = [a for a in page.annots() if a.type[1] in KIND_OF_SUBTYPE]
    if not annots:
        return []
    lines = reading_order(_page_lines(page, textpage), page.rect.x0, page.rect.x1)
    rank = {id(ln): i for i, ln in enumerate(lines)}
    page_no = page.number + 1
    label = page.get_label() or str(page_no)
    result = []
    for annot in annots:
        kind = KIND_OF_SUBTYPE[annot.type[1]]
        info = annot.info
        quads = _quads(annot) if kind in MARKUP.values() else []
        rects = quads or [tuple(annot.rect)]
        comment = _comment(annot, info)
        color = _color(annot.colors.get("stroke") or annot.colors.get("fill"))
        a = Annotation(
            id=annotation_id(page_no, kind, rects),
            kind=kind,
            page=page_no,
            page_label=label,
            text=_text_under(quads, lines) if quads else "",
            comment=comment,
            color=color,
            rects=[tuple(round(v, 2) for v in r) for r in rects],
            created=parse_pdf_date(info.get("creationDate")),
            modified=parse_pdf_date(info.get("modDate")),
            author=info.get("title") or "",
        )
        prefixed, rest = taxonomy.split_prefix(comment)
        a.category = taxonomy.categorize(color, comment=comment)
        if prefixed is not None:
            a.comment = rest
        if kind in ("image", "ink"):
            a.image = page.get_pixmap(clip=annot.rect, dpi=IMAGE_DPI, annots=kind == "ink").tobytes("png")
        a.sort_key = (page_no, *_position(rects[0], lines, rank))
        result.append(a)
    return result


def annotation_id(page: int, kind: str, rects) -> str:
    """A hash of where the annotation is, stable across re-reads and saves."""
    where = ";".join(",".join(f"{v:.1f}" for v in r) for r in rects)
    return hashlib.sha1(f"{page}|{kind}|{where}".encode()).hexdigest()[:16]


def _quads(annot) -> list[tuple[float, float, float, float]]:
    vertices = annot.vertices or []
    quads = []
    for i in range(0, len(vertices) - 3, 4):
        xs = [p[0] for p in vertices[i:i + 4]]
        ys = [p[1] for p in vertices[i:i + 4]]
        quads.append((min(xs), min(ys), max(xs), max(ys)))
    return quads


def _comment(annot, info) -> str:
    text = info.get("content") or ""
    if not text and annot.popup_xref:  # some readers (Zotero's export) keep the text on the popup
        kind, value = annot.parent.parent.xref_get_key(annot.popup_xref, "Contents")
        if kind == "string":
            text = value
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _color(components) -> str | None:
    if not components:
        return None
    if len(components) == 1:
        components = components * 3
    elif len(components) == 4:  # CMYK
        c, m, y, k = components
        components = [(1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)]
    return "#" + "".join(f"{round(max(0.0, min(1.0, v)) * 255):02x}" for v in components[:3])


def _position(rect, lines: list[_Line], rank: dict) -> tuple:
    """Where an annotation sits in the page's reading order: at the line nearest its top-left corner."""
    x, y = rect[0], rect[1]
    if not lines:
        return (0, y, x)

    def distance(ln: _Line) -> float:
        lx0, ly0, lx1, ly1 = ln.bbox
        return max(lx0 - x, 0, x - lx1) ** 2 + max(ly0 - y, 0, y - ly1) ** 2

    line = min(lines, key=lambda ln: (distance(ln), rank[id(ln)]))
    # Points below their nearest line (notes under the last line) come after the marks on it;
    # points beyond a line's ends (notes in the margin) sort by the end they are closest to.
    below = y > line.bbox[3]
    return (rank[id(line)], below, min(max(x, line.bbox[0]), line.bbox[2]), y, x)


def _text_under(quads, lines: list[_Line]) -> str:
    """Characters whose box is at least half inside a quad, lines joined and de-hyphenated."""
    pieces: list[tuple[str, bool]] = []  # (text, whether it runs to the end of its line)
    for line in lines:
        lx0, ly0, lx1, ly1 = line.bbox
        hits = [q for q in quads if q[0] < lx1 and q[2] > lx0 and q[1] < ly1 and q[3] > ly0]
        if not hits:
            continue
        chosen = [i for i, c in enumerate(line.chars) if _half_inside(c["bbox"], hits)]
        if not chosen:
            continue
        text = "".join(line.chars[i]["c"] for i in chosen)
        rest = "".join(c["c"] for c in line.chars[chosen[-1] + 1:])
        pieces.append((text.strip(), not rest.strip()))
    out, prev_at_end = "", False
    for text, at_end in pieces:
        if out and prev_at_end and len(out) >= 2 and out[-1] in "-\u00ad" and out[-2].isalnum():
            # A word broken at the line end: 'regis-' 'ters' -> 'registers', '16-' 'bit' -> '16-bit'.
            out = (out[:-1] if _broken_word(out, text) else out) + text
        elif text:
            out = f"{out} {text}" if out else text
        prev_at_end = at_end
    return _clean(out)


def _broken_word(before: str, after: str) -> bool:
    """Whether the line-end hyphen only split a word: lowercase on both sides ('pre-' 'Norm' keeps it)."""
    return before[-2].islower() and after[:1].islower()


def _half_inside(box, quads) -> bool:
    x0, y0, x1, y1 = box
    area = (x1 - x0) * (y1 - y0)
    for q in quads:
        w = min(x1, q[2]) - max(x0, q[0])
        h = min(y1, q[3]) - max(y0, q[1])
        if w > 0 and h > 0 and (area <= 0 or w * h >= 0.5 * area):
            return True
        if area <= 0 and q[0] <= (x0 + x1) / 2 <= q[2] and q[1] <= (y0 + y1) / 2 <= q[3]:
            return True
    return False


def _clean(text: str) -> str:
    """Ligatures expanded (ﬁ -> fi), soft hyphens dropped, whitespace collapsed."""
    text = LIGATURES.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text).replace("\u00ad", "")
    return " ".join(text.split())
