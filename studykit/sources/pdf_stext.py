"""A MuPDF text page's lines, read straight from its structures: their boxes, and which hold more than whitespace.

PyMuPDF reaches MuPDF's structures through SWIG proxies, a Python object for every field read:
about 5 us a line. Reading each struct's bytes as MuPDF lays them out costs a third of that. The
layouts below are those of include/mupdf/fitz/structured-text.h as PyMuPDF 2.0 ships it (MuPDF
1.28), read only under that MuPDF and once the first page's first block, line and character
read the same both ways; under another MuPDF, or where they disagree (another platform), the
proxies are read instead.

The boxes are MuPDF's, from its fonts' ascender to their descender. PyMuPDF's "dict" stretches
many characters' boxes to the font size (JM_char_quad: 39% of the 47,190 lines of the corpora come
out taller, by up to 4.6 pt) and makes a Python dict per span, three times the cost of the proxies
on a page of dense text. Every corpus file gives the same annotations in the same order with either.
"""

from __future__ import annotations

import ctypes
import struct

Box = tuple[float, float, float, float]  # x0, y0, x1, y1

# struct fz_stext_block { int type; int id; fz_rect bbox; union { struct { fz_stext_line *first_line,
# *last_line; int flags; } t; ... (32 bytes) } u; fz_stext_block *prev, *next; }
_BLOCK = struct.Struct("<ii4fQQi12xQQ")
# struct fz_stext_line { uint8_t wmode, flags; fz_point dir; fz_rect bbox; fz_stext_char *first_char,
# *last_char; fz_stext_line *prev, *next; }
_LINE = struct.Struct("<BB2x2f4f4xQQQQ")
# struct fz_stext_char { int c; uint16_t bidi, flags; uint32_t argb; fz_point origin; fz_quad quad;
# float size; fz_font *font; fz_stext_char *next; }
_CHAR = struct.Struct("<i60xQ")
_TEXT = 0  # FZ_STEXT_BLOCK_TEXT


class _Bytes:
    """The structs read from memory; a pointer is an int, 0 for NULL."""

    @staticmethod
    def start(first_block) -> int:
        return int(first_block.this)

    @staticmethod
    def block(address: int) -> tuple[bool, int, int]:
        kind, _, _, _, _, _, first_line, _, _, _, following = _BLOCK.unpack(ctypes.string_at(address, _BLOCK.size))
        return kind == _TEXT, first_line, following

    @staticmethod
    def line(address: int) -> tuple[Box, int, int]:
        _, _, _, _, x0, y0, x1, y1, first_char, _, _, following = _LINE.unpack(ctypes.string_at(address, _LINE.size))
        return (x0, y0, x1, y1), first_char, following

    @staticmethod
    def char(address: int) -> tuple[int, int]:
        return _CHAR.unpack(ctypes.string_at(address, _CHAR.size))


class _Proxies:
    """The structs read through PyMuPDF's SWIG proxies; a pointer is a proxy, None for NULL."""

    @staticmethod
    def start(first_block):
        return first_block

    @staticmethod
    def block(block) -> tuple[bool, object, object]:
        from pymupdf import _mupdf

        if block.type != _TEXT:
            return False, None, block.next
        # The union u.t.first_line has no getter: the C++ FzStextBlock's iterator reaches it.
        first = _mupdf.FzStextBlockIterator_m_internal_get(_mupdf.FzStextBlock_begin(_mupdf.new_FzStextBlock(block)))
        return True, first, block.next

    @staticmethod
    def line(line) -> tuple[Box, object, object]:
        r = line.bbox
        return (r.x0, r.y0, r.x1, r.y1), line.first_char, line.next

    @staticmethod
    def char(char) -> tuple[int, object]:
        return char.c, char.next


def read_lines(stext) -> tuple[list[Box], list[Box]]:
    """The boxes of a text page's lines that hold more than whitespace, and of all its lines
    (whitespace too), in MuPDF's order. `stext` is the fz_stext_page proxy (TextPage.this.m_internal)."""
    first = stext.first_block
    if first is None:
        return [], []
    reader = _reader(first)
    block_of, line_of, char_of = reader.block, reader.line, reader.char
    lines: list[Box] = []
    boxes: list[Box] = []
    block = reader.start(first)
    while block:
        is_text, line, block = block_of(block)
        while is_text and line:
            box, char, line = line_of(line)
            boxes.append(box)
            while char:
                c, following = char_of(char)
                if not chr(c).isspace():
                    lines.append(box)
                    break
                char = following
    return lines, boxes


LAYOUTS_OF = "1.28."  # the MuPDF whose structured-text.h the layouts above copy (PyMuPDF 2.0's)
_VERDICT: list[bool] = []  # whether the bytes are read: decided on the first page with a character


def _reader(first_block):
    """The bytes where this is the MuPDF the layouts are copied from and the first page's first block,
    line and character read the same from memory as through the proxies (the platform's ABI); else
    the proxies."""
    if not _VERDICT:
        import pymupdf

        if not pymupdf.mupdf_version.startswith(LAYOUTS_OF):
            _VERDICT.append(False)
        elif (agreed := _agree(first_block)) is not None:
            _VERDICT.append(agreed)
    return _Bytes if _VERDICT and _VERDICT[0] else _Proxies


def _agree(first_block) -> bool | None:
    """Whether the page's first text block, its first line and that line's first character read the
    same from memory as through the proxies, every pointer compared before it is followed; None
    where the page has no character to compare."""

    def address(proxy) -> int:
        return int(proxy.this) if proxy is not None else 0

    block, p_block = address(first_block), first_block
    while p_block is not None:
        is_text, line, following = _Bytes.block(block)
        p_text, p_line, p_following = _Proxies.block(p_block)
        if (is_text, following) != (p_text, address(p_following)) or (p_text and line != address(p_line)):
            return False
        if p_text and p_line is not None:
            box, char, line_after = _Bytes.line(line)
            p_box, p_char, p_line_after = _Proxies.line(p_line)
            if (box, char, line_after) != (p_box, address(p_char), address(p_line_after)):
                return False
            if p_char is not None:
                return _Bytes.char(char) == (p_char.c, address(p_char.next))
        block, p_block = following, p_following
    return None
