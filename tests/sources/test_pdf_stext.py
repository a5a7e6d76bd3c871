"""Line boxes read from MuPDF's text page: the struct bytes agree with PyMuPDF's proxies on real pages,
whitespace-only lines are told apart, and a layout that does not match falls back to the proxies."""

from __future__ import annotations

import struct
import sys

import pymupdf
import pytest

import studykit.sources.pdf_stext as stext
from locations import corpus, needs_corpus
from studykit.sources.pdf_layout import page_textpage


def _pages(paths):
    for path in paths:
        try:
            doc = pymupdf.open(path)
        except Exception:  # noqa: BLE001  (the corpus holds files MuPDF cannot open)
            continue
        if doc.needs_pass:
            continue
        try:
            yield from (page_textpage(page) for page in doc)
        except Exception:  # noqa: BLE001  (and page trees it cannot walk)
            continue


def _read_both(textpage, monkeypatch) -> tuple:
    """read_lines as studykit reads the page, and as the SWIG proxies alone read it."""
    fast = stext.read_lines(textpage.this.m_internal)
    with monkeypatch.context() as m:
        m.setattr(stext, "_reader", lambda first: stext._Proxies)
        slow = stext.read_lines(textpage.this.m_internal)
    return fast, slow


@needs_corpus("realworld", "pdfannots")
def test_the_bytes_read_as_the_proxies_on_every_corpus_page(monkeypatch):
    paths = sorted(corpus("realworld").glob("*.pdf")) + sorted(corpus("pdfannots").glob("*.pdf"))
    pages = lines = 0
    for textpage in _pages(paths):
        fast, slow = _read_both(textpage, monkeypatch)
        assert fast == slow
        pages += 1
        lines += len(fast[1])
    assert pages > 400 and lines > 20_000


def _page_that_shows_every_pointer():
    """Two blocks of two lines of several characters: every `next` a check compares is set."""
    page = pymupdf.open().new_page()
    page.insert_text((72, 72), "ab cd\nef gh", fontsize=11)
    page.insert_text((72, 400), "ij kl\nmn op", fontsize=11)
    return page_textpage(page)


@pytest.mark.skipif(sys.byteorder != "little" or struct.calcsize("P") != 8, reason="the layouts are 64-bit little-endian")
def test_the_bytes_are_trusted_here_once_a_page_shows_every_pointer():
    assert stext._agree(_page_that_shows_every_pointer().this.m_internal.first_block) is True, (
        "MuPDF's structs no longer match pdf_stext's layouts: update them from this PyMuPDF's "
        "mupdf-devel/include/mupdf/fitz/structured-text.h")
    one_line = pymupdf.open().new_page()
    one_line.insert_text((72, 72), "one line", fontsize=11)
    assert stext._agree(page_textpage(one_line).this.m_internal.first_block) is None  # a NULL proves nothing


def test_whitespace_lines_are_boxes_but_not_text_lines(monkeypatch):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "words on a line", fontsize=11)
    page.insert_text((72, 140), "      ", fontsize=11)  # spaces only: MuPDF keeps them (TEXT_PRESERVE_WHITESPACE)
    page.insert_text((72, 180), "  more words", fontsize=11)  # leading spaces, then text
    textpage = page_textpage(page)
    (lines, boxes), slow = _read_both(textpage, monkeypatch)
    assert (lines, boxes) == slow
    assert len(boxes) == 3 and len(lines) == 2
    assert [round(box[3]) for box in lines] == [round(boxes[0][3]), round(boxes[2][3])]


def test_a_layout_that_disagrees_is_not_trusted(monkeypatch):
    textpage = _page_that_shows_every_pointer()
    want = stext.read_lines(textpage.this.m_internal)
    monkeypatch.setattr(stext, "_VERDICT", [])
    for wrong in ("<BB2x2f4fQQQQ4x", "<BB2x2f4f4xQIIQ8x"):  # pointers 4 bytes early; `next` read at `prev`
        monkeypatch.setattr(stext, "_LINE", struct.Struct(wrong))
        assert stext._agree(textpage.this.m_internal.first_block) is False
        assert stext.read_lines(textpage.this.m_internal) == want  # through the proxies
        assert stext._VERDICT == [False]
        stext._VERDICT.clear()


def test_an_empty_page_has_no_lines():
    page = pymupdf.open().new_page()
    assert stext.read_lines(page_textpage(page).this.m_internal) == ([], [])


@pytest.mark.parametrize("rotation", [90, 180])
def test_rotated_pages_read_alike(rotation, monkeypatch):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "a rotated page's line", fontsize=11)
    page.set_rotation(rotation)
    fast, slow = _read_both(page_textpage(page), monkeypatch)
    assert fast == slow and len(fast[0]) == 1

