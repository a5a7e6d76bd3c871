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


def _page_of_lines():
    """Two blocks, of three lines and of one: the first line's `next` is set, so a check compares it."""
    page = pymupdf.open().new_page()
    page.insert_text((72, 100), "line 0\nline 1\nline 2", fontsize=11)
    page.insert_text((72, 400), "line 3", fontsize=11)
    return page_textpage(page)


@pytest.mark.skipif(not pymupdf.mupdf_version.startswith(stext.LAYOUTS_OF) or sys.byteorder != "little"
                    or struct.calcsize("P") != 8, reason=f"the layouts are MuPDF {stext.LAYOUTS_OF}x's, 64-bit "
                    f"little-endian; this is MuPDF {pymupdf.mupdf_version} (the proxies are read)")
def test_the_bytes_are_read_under_the_mupdf_the_layouts_are_copied_from():
    assert stext._agree(_page_of_lines().this.m_internal.first_block) is True
    assert stext._reader(_page_of_lines().this.m_internal.first_block) is stext._Bytes


def test_under_another_mupdf_the_proxies_are_read(monkeypatch):
    textpage = _page_of_lines()
    want = stext.read_lines(textpage.this.m_internal)
    monkeypatch.setattr(stext, "_VERDICT", [])
    monkeypatch.setattr(pymupdf, "mupdf_version", "1.99.0")
    assert stext._reader(textpage.this.m_internal.first_block) is stext._Proxies
    assert stext.read_lines(textpage.this.m_internal) == want


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
    textpage = _page_of_lines()
    want = stext.read_lines(textpage.this.m_internal)
    for wrong in ("<BB2x2f4fQQQQ4x", "<BB2x2f4f4xQIIQ8x"):  # pointers 4 bytes early; `next` read at `prev`
        monkeypatch.setattr(stext, "_VERDICT", [])
        monkeypatch.setattr(stext, "_LINE", struct.Struct(wrong))
        assert stext.read_lines(textpage.this.m_internal) == want  # through the proxies
        assert stext._VERDICT == [False]


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

