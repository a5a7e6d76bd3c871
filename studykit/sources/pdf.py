"""Annotations and metadata out of a PDF file, with PyMuPDF, in reading order."""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path

from studykit.errors import UserError, require_file
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
        first = _PageText(doc[0])  # read once for metadata and annotations
        first_text = first.textpage.extractText()
        paper = Paper(id=paper_id(doc, first_text), pdf_path=path.resolve())
        _fill_metadata(paper, doc, first_text, lambda: _title_from_page(first))
        for n in range(doc.page_count):
            paper.annotations.extend(_page_annotations(first if n == 0 else _PageText(doc[n]), taxonomy))
    except RuntimeError as exc:  # MuPDF errors on a damaged page
        raise UserError(f"{path}: damaged PDF: {exc}") from None
    finally:
        doc.close()
    paper.annotations.sort(key=lambda a: a.sort_key)
    return paper


def _open(path: Path, password: str | None):
    import pymupdf

    require_file(path)
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
    else:
        paper.authors = authors_after_title(first_text, paper.title)
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


_NAME = re.compile(r"^[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){1,3}$")
_AFFILIATION = re.compile(r"\b(universit\w*|institut\w*|research|labs?|laborator\w*|inc|corp\w*|department|school|"
                         r"college|cent(?:er|re)|academy|google|microsoft|facebook|meta|amazon|ibm|intel)\b", re.I)


def authors_after_title(first_text: str, title: str) -> list[str]:
    """The names on the lines right below the title of a first page ("Andrew Baumann, Microsoft
    Research" -> ["Andrew Baumann"]); [] when the title is not found or no line reads as names."""
    key = " ".join(title.split()).casefold()
    lines = first_text.splitlines()
    seen, start = "", None
    for n, line in enumerate(lines[:40]):
        seen = " ".join((seen + " " + line).split()).casefold()
        if key and key in seen:
            start = n + 1
            break
    names: list[str] = []
    for line in lines[start:start + 4] if start is not None else ():
        if not line.strip() or re.match(r"\s*abstract\b", line, re.I):
            break
        for part in re.split(r",|;|\band\b|&|·", line):
            part = re.sub(r"[\d*∗†‡§¶⁰¹²³⁴⁵⁶⁷⁸⁹,]+$", "", " ".join(part.split()))
            if _NAME.match(part) and not _AFFILIATION.search(part):
                names.append(part)
    return names[:20]


def _title_from_page(page_text: _PageText) -> str:
    """The largest text in the top half of the first page."""
    spans = []
    for block in page_text.spans["blocks"]:
        for line in block.get("lines", ()):
            line_text = "".join(s["text"] for s in line["spans"]).strip()
            if len(line_text) >= 3 and line["bbox"][3] <= page_text.page.rect.height / 2:
                spans.append((max(s["size"] for s in line["spans"]), line_text))
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


class _PageText:
    """A page's text, extracted once and only as far as it is asked for.

    Line boxes (for reading order) come from MuPDF's "dict", which has no per-character data;
    characters are extracted only for the lines an annotation covers (`chars_of_lines`).
    """

    def __init__(self, page):
        self.page = page

    @cached_property
    def textpage(self):
        return page_textpage(self.page)

    @cached_property
    def spans(self) -> dict:
        """MuPDF's "dict": blocks, lines and spans with their text and boxes, no characters."""
        return self.textpage.extractDICT()

    @cached_property
    def lines(self) -> list[_Line]:
        """Text lines in reading order."""
        lines = [_Line(tuple(line["bbox"])) for block in self.spans["blocks"] for line in block.get("lines", ())
                 if "".join(s["text"] for s in line["spans"]).strip()]
        return reading_order(lines, self.page.rect.x0, self.page.rect.x1)

    def chars_of_lines(self, boxes: list[tuple]) -> dict[tuple, list]:
        """Line box -> characters ({"c", "bbox", ...}) of the lines with these boxes (and of others near them).

        MuPDF's rawdict keeps only the characters that overlap the text page's mediabox, so the
        mediabox is narrowed to the union of the boxes for this one call: that skips building every
        character of the page, and unlike get_text(clip=...) does not interpret the page again. The
        union holds the lines whole, so their boxes come out as in `lines`.
        """
        from pymupdf import mupdf

        stext = self.textpage.this.m_internal
        whole = mupdf.FzRect(stext.mediabox)
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        area = mupdf.FzRect(x0 - 1, y0 - 1, x1 + 1, y1 + 1)
        stext.mediabox = area.internal()
        try:
            raw = self.textpage.extractRAWDICT()
        finally:
            stext.mediabox = whole.internal()
        rows: dict[tuple, list] = {}
        for block in raw["blocks"]:
            for line in block.get("lines", ()):
                rows.setdefault(tuple(line["bbox"]), []).extend(c for span in line["spans"] for c in span["chars"])
        return rows


def page_textpage(page):
    """The text of the page's own content, as page.get_textpage(flags=TEXT_FLAGS) but without the
    annotations' appearances: their text is not the page's, and running them costs time."""
    import pymupdf
    from pymupdf import mupdf

    rotation = page.rotation
    if rotation:  # as get_textpage: text in the unrotated page's coordinates
        page.set_rotation(0)
    try:
        stext = mupdf.FzStextPage(mupdf.fz_bound_page(page.this))
        device = mupdf.fz_new_stext_device(stext, mupdf.FzStextOptions(TEXT_FLAGS))
        mupdf.fz_run_page_contents(page.this, device, mupdf.FzMatrix(), mupdf.FzCookie())
        mupdf.fz_close_device(device)
    finally:
        if rotation:
            page.set_rotation(rotation)
    textpage = pymupdf.TextPage(stext)
    textpage.parent = page
    return textpage


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


def _page_annotations(page_text: _PageText, taxonomy) -> list[Annotation]:
    page = page_text.page
    annots = [a for a in page.annots() if a.type[1] in KIND_OF_SUBTYPE]
    if not annots:
        return []
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
            text=_text_under(quads, page_text) if quads else "",
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
            a.image = _png(page.get_pixmap(clip=annot.rect, dpi=IMAGE_DPI, annots=kind == "ink"))
        a.sort_key = (page_no, *_position(rects[0], page_text.lines))
        result.append(a)
    return result


def _png(pixmap) -> bytes:
    """An RGB pixmap as PNG, compressed at zlib level 1.

    MuPDF's own writer uses the default level 6, which takes twice as long for ~15% fewer bytes.
    """
    assert pixmap.n == 3 and not pixmap.alpha  # get_pixmap's default: RGB, no alpha
    samples, stride = pixmap.samples, pixmap.stride
    rows = b"".join(b"\0" + samples[i:i + stride] for i in range(0, len(samples), stride))  # filter 0 per row

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", pixmap.width, pixmap.height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b"")


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


def _position(rect, lines: list[_Line]) -> tuple:
    """Where an annotation sits in the page's reading order: at the line nearest its top-left corner."""
    x, y = rect[0], rect[1]
    if not lines:
        return (0, y, x)

    rank, nearest = 0, float("inf")  # the first line in reading order among the nearest
    for i, ln in enumerate(lines):
        lx0, ly0, lx1, ly1 = ln.bbox
        dx = lx0 - x if x < lx0 else x - lx1 if x > lx1 else 0.0
        dy = ly0 - y if y < ly0 else y - ly1 if y > ly1 else 0.0
        distance = dx * dx + dy * dy
        if distance < nearest:
            rank, nearest = i, distance
            if nearest == 0:  # on the line: none can be nearer, nor earlier
                break
    line = lines[rank]
    # Points below their nearest line (notes under the last line) come after the marks on it;
    # points beyond a line's ends (notes in the margin) sort by the end they are closest to.
    below = y > line.bbox[3]
    return (rank, below, min(max(x, line.bbox[0]), line.bbox[2]), y, x)


def _text_under(quads, page_text: _PageText) -> str:
    """Characters whose box is at least half inside a quad, lines joined and de-hyphenated."""
    top, bottom = min(q[1] for q in quads), max(q[3] for q in quads)
    hit_lines = []  # (line, the quads crossing it), in reading order
    for line in page_text.lines:
        lx0, ly0, lx1, ly1 = line.bbox
        if ly1 <= top or ly0 >= bottom:  # most lines of the page: skip them cheaply
            continue
        hits = [q for q in quads if q[0] < lx1 and q[2] > lx0 and q[1] < ly1 and q[3] > ly0]
        if hits:
            hit_lines.append((line, hits))
    if not hit_lines:
        return ""
    rows = page_text.chars_of_lines([line.bbox for line, _ in hit_lines])
    pieces: list[tuple[str, bool]] = []  # (text, whether it runs to the end of its line)
    for line, hits in hit_lines:
        chars = rows.pop(line.bbox, ())  # lines with the same box (overprinted text) share one entry
        left, right = min(q[0] for q in hits), max(q[2] for q in hits)
        chosen = [i for i, c in enumerate(chars)
                  if left <= c["bbox"][2] and c["bbox"][0] <= right and _half_inside(c["bbox"], hits)]
        if not chosen:
            continue
        text = "".join(chars[i]["c"] for i in chosen)
        rest = "".join(c["c"] for c in chars[chosen[-1] + 1:])
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
