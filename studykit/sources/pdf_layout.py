"""A PDF page's text lines in reading order: rows, columns, and regions of the page that hold them."""

from __future__ import annotations

import gc
import statistics
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property

TEXT_FLAGS = 2 | 64  # pymupdf.TEXT_PRESERVE_WHITESPACE | TEXT_MEDIABOX_CLIP (no images: faster)


@dataclass
class Line:
    bbox: tuple[float, float, float, float]


class PageText:
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
        return _blocks(self.textpage, raw=False)

    @cached_property
    def text(self) -> str:
        return self.textpage.extractText()

    @cached_property
    def lines(self) -> list[Line]:
        """Text lines in reading order."""
        lines = [Line(tuple(line["bbox"])) for block in self.spans["blocks"] for line in block.get("lines", ())
                 if any(s["text"].strip() for s in line["spans"])]
        return reading_order(lines, self.page.rect.x0, self.page.rect.x1)

    @cached_property
    def _by_top(self) -> tuple[list[float], list[int], float]:
        """The lines' tops in ascending order, their ranks in reading order, and the tallest line's height."""
        ranked = sorted((line.bbox[1], rank) for rank, line in enumerate(self.lines))
        tallest = max((line.bbox[3] - line.bbox[1] for line in self.lines), default=0.0)
        return [top for top, _ in ranked], [rank for _, rank in ranked], tallest

    def lines_across(self, top: float, bottom: float) -> list[Line]:
        """The lines that reach into the band between heights `top` and `bottom`, in reading order."""
        tops, ranks, tallest = self._by_top
        first = bisect_right(tops, top - tallest - 1)  # lines starting higher end above the band
        last = bisect_left(tops, bottom)  # lines starting at or below its bottom lie under it
        lines = self.lines
        return [lines[r] for r in sorted(ranks[first:last]) if lines[r].bbox[3] > top and lines[r].bbox[1] < bottom]

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
            raw = _blocks(self.textpage, raw=True)
        finally:
            stext.mediabox = whole.internal()
        rows: dict[tuple, list] = {}
        for block in raw["blocks"]:
            for line in block.get("lines", ()):
                rows.setdefault(tuple(line["bbox"]), []).extend(c for span in line["spans"] for c in span["chars"])
        return rows


def _blocks(textpage, raw: bool) -> dict:
    """TextPage.extractDICT (raw: extractRAWDICT) as PyMuPDF builds it, less the page size it adds
    through two Rect objects per call, which studykit does not read (~10 us a call)."""
    from pymupdf import extra

    found: dict = {}
    # The call makes a dict per span (per character in raw), thousands a page, none in a cycle: a
    # garbage collection its allocations set off would only walk every object of the process.
    collecting = gc.isenabled()
    gc.disable()
    try:
        extra.JM_make_textpage_dict(textpage.this.m_internal, found, raw)
    finally:
        if collecting:
            gc.enable()
    return found


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


def reading_order(lines: list[Line], x0: float, x1: float) -> list[Line]:
    """Lines in reading order: columns are found per region of the page, not for the whole page.

    A region with a gutter reads column by column, cut into bands by lines that span the gutter (a
    wide figure, its caption). A region without one may still hold columns below or above a block
    that spans them (the title and authors of a first page): it is cut at the whitespace between
    them. Lines of one row, however their glyph runs jitter up and down, read left to right.
    """
    gutter = _find_gutter(lines, x0, x1)
    if gutter is None:
        split = _split_off_columns(lines, x0, x1)
        if split is None:
            return rows(lines)
        top, bottom = split
        return reading_order(top, x0, x1) + reading_order(bottom, x0, x1)
    g0, g1 = gutter
    ordered: list[Line] = []
    left: list[Line] = []
    right: list[Line] = []

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


def rows(lines: list[Line]) -> list[Line]:
    """Lines top to bottom; lines whose vertical middles fall within one row's height read left to right."""
    out: list[Line] = []
    row: list[Line] = []
    top = bottom = 0.0
    for line in sorted(lines, key=lambda ln: (ln.bbox[1] + ln.bbox[3]) / 2):
        middle = (line.bbox[1] + line.bbox[3]) / 2
        if row and top <= middle <= bottom:
            row.append(line)
            continue
        out.extend(sorted(row, key=lambda ln: ln.bbox[0]))
        row, top, bottom = [line], line.bbox[1], line.bbox[3]
    out.extend(sorted(row, key=lambda ln: ln.bbox[0]))
    return out


def _split_off_columns(lines: list[Line], x0: float, x1: float) -> tuple[list[Line], list[Line]] | None:
    """(above, below) a wide horizontal gap such that one side has columns; None if no gap does.

    Only gaps wider than a line's height are tried (a paragraph break, the space under a title),
    the topmost first: a first page's spanning block sits above its columns.
    """
    if len(lines) < 12:
        return None
    ordered = sorted(lines, key=lambda ln: ln.bbox[1])
    height = statistics.median(ln.bbox[3] - ln.bbox[1] for ln in ordered)
    reach = ordered[0].bbox[3]
    for i in range(1, len(ordered)):
        if ordered[i].bbox[1] - reach > height:
            above, below = ordered[:i], ordered[i:]
            if _find_gutter(below, x0, x1) is not None or _find_gutter(above, x0, x1) is not None:
                return above, below
        reach = max(reach, ordered[i].bbox[3])
    return None


def _find_gutter(lines: list[Line], x0: float, x1: float) -> tuple[float, float] | None:
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
    ends = sorted(ln.bbox[2] for ln in text)  # counted by bisection: this runs for every gap between edges
    starts = sorted(ln.bbox[0] for ln in text)
    best = None
    for a, b in zip(edges, edges[1:]):
        if b - a < 4:
            continue
        left = bisect_right(ends, a + 1)  # lines ending left of the strip
        right = len(text) - bisect_left(starts, b - 1)  # lines starting right of it
        crossing = len(text) - left - right
        if left < need or right < need or crossing > 0.15 * min(left, right):
            continue
        score = (crossing, -(b - a), abs((a + b) / 2 - (x0 + x1) / 2))
        if best is None or score < best[0]:
            best = (score, (a, b))
    return best[1] if best else None
