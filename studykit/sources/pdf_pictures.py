"""Pictures of area and ink marks: where a mark's picture lies on its page, and the PNG drawn there."""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable

from studykit.sources.pdf_open import one_line

IMAGE_DPI = 150
MAX_PICTURE_PIXELS = 40_000_000  # a page-sized area at 150 dpi is ~2 million; more is a bomb, not a figure
MAX_COORDINATE = 1e6  # PDF points; MuPDF's "infinite" rectangles sit at +-2**31


def mark_area(annot) -> tuple[float, float, float, float] | None:
    """The annotation's rectangle (an ink mark's strokes when its /Rect is unusable); None when empty."""
    r = annot.rect
    if not (r.x0 < r.x1 and r.y0 < r.y1 and all(abs(v) < MAX_COORDINATE for v in r)):
        if annot.type[1] != "Ink":
            return None
        points = [p for stroke in (annot.vertices or []) for p in stroke
                  if all(math.isfinite(v) and abs(v) < MAX_COORDINATE for v in p)]
        if not points:
            return None
        pad = max(annot.border.get("width") or 1, 1)
        r = (min(p[0] for p in points) - pad, min(p[1] for p in points) - pad,
             max(p[0] for p in points) + pad, max(p[1] for p in points) + pad)
    return tuple(r)


class Pictures:
    """The pictures of one open document's marks, drawn as the reader sees each page (rotation and
    marks included), from one display list per page; `warn(page_no, text)` hears what went wrong."""

    def __init__(self, warn: Callable[[int, str], None], draw: bool = True):
        self.warn = warn
        self.draw = draw  # False: decide where each picture lies, but leave the drawing out
        self._drawing: tuple[int, object] | None = None  # (page number, its display list)

    def picture(self, annot, kind: str, place, page_no: int) -> tuple[bytes | None, str]:
        """(PNG or None, the notice saying why there is none)."""
        import pymupdf

        if place is None:
            return None, "no picture: the annotation marks no area (its rectangle is empty or invalid)"
        page = annot.parent
        clip = pymupdf.Rect(place) * page.rotation_matrix & page.rect
        if clip.is_empty:
            return None, "no picture: the area lies outside the page"
        if clip.width * clip.height * (IMAGE_DPI / 72) ** 2 > MAX_PICTURE_PIXELS:
            self.warn(page_no, f"{kind} annotation: picture not drawn, its area is too large")
            return None, "no picture: the area is too large to draw"
        if not self.draw:
            return None, ""
        try:
            if self._drawing is None or self._drawing[0] != page.number:  # one display list for a page's pictures
                self._drawing = (page.number, page.get_displaylist())  # as the reader sees it, marks included
            zoom = IMAGE_DPI / 72
            pixmap = self._drawing[1].get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), clip=clip)
        except (RuntimeError, ValueError, pymupdf.mupdf.FzErrorBase) as exc:  # "Overly large image", ...
            self.warn(page_no, f"{kind} annotation: picture not drawn: {one_line(exc)}")
            return None, "no picture: the PDF's drawing of this area is damaged"
        if pixmap.width == 0 or pixmap.height == 0:
            return None, "no picture: the area is less than a pixel wide"
        return png(pixmap), ""


def png(pixmap) -> bytes:
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
