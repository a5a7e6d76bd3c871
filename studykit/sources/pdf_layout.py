"""A PDF page's text lines in reading order: rows, columns, and regions of the page that hold them."""

from __future__ import annotations

import gc
import statistics
from bisect import bisect_left, bisect_right
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the reader itself (ctypes) only where a page is read: pdf_metadata imports this module
    from studykit.sources.pdf_stext import Box

TEXT_FLAGS = 2 | 64  # pymupdf.TEXT_PRESERVE_WHITESPACE | TEXT_MEDIABOX_CLIP (no images: faster)


class PageText:
    """A page's text, extracted once and only as far as it is asked for.

    Line boxes (for reading order) come straight from MuPDF's text page; characters are extracted
    only for the lines an annotation covers (`chars_of_lines`).
    """

    def __init__(self, page):
        self.page = page

    @cached_property
    def textpage(self):
        return page_textpage(self.page)

    @cached_property
    def text(self) -> str:
        return self.textpage.extractText()

    @cached_property
    def _read(self) -> tuple[list[Box], list[Box]]:
        from studykit.sources.pdf_stext import read_lines

        return read_lines(self.textpage.this.m_internal)

    @cached_property
    def lines(self) -> list[Box]:
        """Text lines in reading order: those whose box crosses the page (as PyMuPDF's dict lists them;
        text drawn at size 0 or off the page has none)."""
        rect, (_, whole) = self.page.rect, self._mediabox
        return reading_order([box for box in self._read[0] if _crosses(box, *whole)], rect.x0, rect.x1)

    @cached_property
    def _lines_by_top(self) -> _ByTop:
        return _ByTop(self.lines)

    @cached_property
    def _all_by_top(self) -> _ByTop:
        return _ByTop(self._read[1])

    def nearest(self, x: float, y: float) -> int:
        """The rank in reading order of the first line among those nearest the point.

        Lines are visited by how far their top lies from the point, both ways, and the visit stops
        where no line further on can be nearer: a note in the margin weighs a few lines, not the page's.
        """
        lines, by_top = self.lines, self._lines_by_top
        tops, order, reach = by_top.tops, by_top.order, by_top.tallest + 1
        under = bisect_right(tops, y)  # tops[under:] start below the point, tops[:under] at or above it
        over = under - 1
        best, rank = float("inf"), 0
        while under < len(tops) or over >= 0:
            if over < 0 or (under < len(tops) and tops[under] - y <= max(0.0, y - tops[over] - reach)):
                gap, i = tops[under] - y, order[under]
                under += 1
            else:  # a line starting above reaches at most `reach` down
                gap, i = max(0.0, y - tops[over] - reach), order[over]
                over -= 1
            if gap * gap > best:
                break
            lx0, ly0, lx1, ly1 = lines[i]
            dx = lx0 - x if x < lx0 else x - lx1 if x > lx1 else 0.0
            dy = ly0 - y if y < ly0 else y - ly1 if y > ly1 else 0.0
            distance = dx * dx + dy * dy
            if distance < best or (distance == best and i < rank):
                best, rank = distance, i
        return rank

    def first_under(self, rect: Box) -> int | None:
        """The rank in reading order of the first line the rectangle crosses (a mark's quad), if any."""
        x0, y0, x1, y1 = rect[0], rect[1], rect[2], rect[3]
        lines = self.lines
        return next((r for r in self._lines_by_top.near(y0, y1)
                     if lines[r][0] < x1 and lines[r][2] > x0 and lines[r][1] < y1 and lines[r][3] > y0), None)

    def lines_across(self, top: float, bottom: float) -> list[Box]:
        """The lines that reach into the band between heights `top` and `bottom`, in reading order."""
        lines = self.lines
        return [lines[r] for r in self._lines_by_top.near(top, bottom)
                if lines[r][3] > top and lines[r][1] < bottom]

    def chars_of_lines(self, boxes: list[Box], left: float = float("-inf")) -> dict[Box, list]:
        """Line box -> characters ({"c", "bbox", ...}) of the lines with these boxes from `left` rightwards
        (and of other lines near them).

        PyMuPDF's rawdict keeps only the characters that overlap the text page's mediabox, so the
        mediabox is narrowed to the lines for this one call: that skips building every character of
        the page, and unlike get_text(clip=...) does not interpret the page again. rawdict lists the
        lines whose MuPDF box crosses the mediabox, in MuPDF's order: that is how each is known.
        """
        x0s, y0s, x1s, y1s = zip(*boxes)
        narrow = (max(min(x0s), left) - 1, min(y0s) - 1, max(x1s) + 1, max(y1s) + 1)
        mediabox, whole = self._mediabox
        try:
            mediabox.x0, mediabox.y0, mediabox.x1, mediabox.y1 = narrow
            area = (mediabox.x0, mediabox.y0, mediabox.x1, mediabox.y1)  # as MuPDF compares: single precision
            found = [line for block in _blocks(self.textpage, raw=True)["blocks"] for line in block.get("lines", ())]
        finally:
            mediabox.x0, mediabox.y0, mediabox.x1, mediabox.y1 = whole
        crossing = self._crossing(*area)
        if len(crossing) != len(found):  # not as rawdict was read (never on the corpora): by most overlap
            crossing = [max(crossing, key=lambda box: _overlap(box, line["bbox"]), default=tuple(line["bbox"]))
                        for line in found]
        rows: dict[Box, list] = {}
        for box, line in zip(crossing, found):
            rows.setdefault(box, []).extend(c for span in line["spans"] for c in span["chars"])
        return rows

    def spans_above(self, bottom: float) -> list[dict]:
        """PyMuPDF's "dict" of the lines that end at or above height `bottom`: their spans with text
        and size, no characters; in MuPDF's order. (The whole page's: a dict narrowed to the top
        would miss lines whose characters PyMuPDF's boxes move up, such as upside-down text.)"""
        return [line for block in _blocks(self.textpage, raw=False)["blocks"] for line in block.get("lines", ())
                if line["bbox"][3] <= bottom]

    @cached_property
    def _mediabox(self):
        """The text page's own rectangle (narrowed in place by chars_of_lines), and its corners."""
        mediabox = self.textpage.this.m_internal.mediabox
        return mediabox, (mediabox.x0, mediabox.y0, mediabox.x1, mediabox.y1)

    def _crossing(self, x0: float, y0: float, x1: float, y1: float) -> list[Box]:
        """The boxes of the text page's lines that cross the rectangle, in MuPDF's order."""
        boxes = self._read[1]
        return [boxes[i] for i in self._all_by_top.near(y0, y1) if _crosses(boxes[i], x0, y0, x1, y1)]


def _overlap(a, b) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _crosses(box: Box, x0: float, y0: float, x1: float, y1: float) -> bool:
    """Whether the box and the rectangle share an area (MuPDF's fz_intersect_rect is not empty)."""
    return max(box[0], x0) < min(box[2], x1) and max(box[1], y0) < min(box[3], y1)


class _ByTop:
    """Boxes found by height: their tops in ascending order, with the tallest box's height."""

    def __init__(self, boxes: list[tuple]):
        ranked = sorted((box[1], i) for i, box in enumerate(boxes))
        self.tops = [top for top, _ in ranked]
        self.order = [i for _, i in ranked]
        self.tallest = max((box[3] - box[1] for box in boxes), default=0.0)

    def near(self, top: float, bottom: float) -> list[int]:
        """Indexes, ascending, of the boxes that may reach into the band between `top` and `bottom`."""
        first = bisect_right(self.tops, top - self.tallest - 1)  # boxes starting higher end above the band
        last = bisect_left(self.tops, bottom)  # boxes starting at or below its bottom lie under it
        return sorted(self.order[first:last])


def _blocks(textpage, raw: bool) -> dict:
    """TextPage.extractDICT (raw: extractRAWDICT) as PyMuPDF builds it, less the page size it adds
    through two Rect objects per call, which studykit does not read (~10 us a call)."""
    from pymupdf import _extra  # the SWIG function itself: pymupdf.extra's wrapper only passes it on

    found: dict = {}
    # The call makes a dict per span (per character in raw), thousands a page, none in a cycle: a
    # garbage collection its allocations set off would only walk every object of the process.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _extra.JM_make_textpage_dict(textpage.this.m_internal, found, raw)
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


def reading_order(lines: list[Box], x0: float, x1: float) -> list[Box]:
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
    ordered: list[Box] = []
    left: list[Box] = []
    right: list[Box] = []

    def flush() -> None:
        ordered.extend(reading_order(left, x0, g0) + reading_order(right, g1, x1))
        left.clear()
        right.clear()

    for line in sorted(lines, key=lambda ln: ln[1]):
        lx0, _, lx1, _ = line
        if lx1 <= g0 + 1:
            left.append(line)
        elif lx0 >= g1 - 1:
            right.append(line)
        else:  # spans the gutter: a title, a wide figure or its caption
            flush()
            ordered.append(line)
    flush()
    return ordered


def rows(lines: list[Box]) -> list[Box]:
    """Lines top to bottom; lines whose vertical middles fall within one row's height read left to right."""
    out: list[Box] = []
    row: list[Box] = []
    top = bottom = 0.0
    for line in sorted(lines, key=lambda ln: (ln[1] + ln[3]) / 2):
        middle = (line[1] + line[3]) / 2
        if row and top <= middle <= bottom:
            row.append(line)
            continue
        out.extend(sorted(row, key=lambda ln: ln[0]) if len(row) > 1 else row)
        row, top, bottom = [line], line[1], line[3]
    out.extend(sorted(row, key=lambda ln: ln[0]))
    return out


def _split_off_columns(lines: list[Box], x0: float, x1: float) -> tuple[list[Box], list[Box]] | None:
    """(above, below) a wide horizontal gap such that one side has columns; None if no gap does.

    Only gaps wider than a line's height are tried (a paragraph break, the space under a title),
    the topmost first: a first page's spanning block sits above its columns.
    """
    if len(lines) < 12:
        return None
    ordered = sorted(lines, key=lambda ln: ln[1])
    height = statistics.median(ln[3] - ln[1] for ln in ordered)
    reach = ordered[0][3]
    for i in range(1, len(ordered)):
        if ordered[i][1] - reach > height:
            above, below = ordered[:i], ordered[i:]
            if _find_gutter(below, x0, x1) is not None or _find_gutter(above, x0, x1) is not None:
                return above, below
        reach = max(reach, ordered[i][3])
    return None


def _find_gutter(lines: list[Box], x0: float, x1: float) -> tuple[float, float] | None:
    """The widest vertical strip in the middle of [x0, x1] that few text lines cross, with text on both sides.

    Only lines of some length count: table cells and figure labels are short and sit anywhere.
    """
    width = x1 - x0
    shortest = 0.15 * width
    text = [ln for ln in lines if ln[2] - ln[0] >= shortest]
    n = len(text)
    if n < 6:
        return None
    ends = sorted([ln[2] for ln in text])  # counted by bisection: this runs for every gap between edges
    starts = sorted([ln[0] for ln in text])
    lo, hi = x0 + 0.2 * width, x1 - 0.2 * width
    edges = sorted({round(v) for v in starts + ends if lo <= v <= hi})
    need = max(3, n // 8)
    middle = (x0 + x1) / 2
    best = None
    for a, b in zip(edges, edges[1:]):
        if b - a < 4:
            continue
        left = bisect_right(ends, a + 1)  # lines ending left of the strip
        right = n - bisect_left(starts, b - 1)  # lines starting right of it
        crossing = n - left - right
        if left < need or right < need or crossing > 0.15 * min(left, right):
            continue
        score = (crossing, a - b, abs((a + b) / 2 - middle))
        if best is None or score < best[0]:
            best = (score, (a, b))
    return best[1] if best else None
