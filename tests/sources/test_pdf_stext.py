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
        m.setattr(stext, "_bytes_trusted", lambda: False)
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


@pytest.mark.skipif(sys.byteorder != "little" or struct.calcsize("P") != 8, reason="the layouts are 64-bit little-endian")
def test_the_bytes_are_trusted_here_and_the_check_follows_no_null_pointer():
    assert stext._bytes_trusted.__wrapped__(), (
        "MuPDF's structs no longer match pdf_stext's layouts: update them from this PyMuPDF's "
        "mupdf-devel/include/mupdf/fitz/structured-text.h")


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
    doc = pymupdf.open()
    page = doc.new_page()
    for i in range(5):
        page.insert_text((72, 100 + 20 * i), f"line {i}", fontsize=11)
    textpage = page_textpage(page)
    want = stext.read_lines(textpage.this.m_internal)
    for wrong in ("<BB2x2f4fQQQQ4x", "<BB2x2f4f4xQIIQ8x"):  # pointers 4 bytes early; `next` read at `prev`
        monkeypatch.setattr(stext, "_LINE", struct.Struct(wrong))
        assert not stext._bytes_trusted.__wrapped__()
    monkeypatch.setattr(stext, "_bytes_trusted", stext._bytes_trusted.__wrapped__)
    assert stext.read_lines(textpage.this.m_internal) == want


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

