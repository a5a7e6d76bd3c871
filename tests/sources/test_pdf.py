"""studykit.sources.pdf on PDFs made here with PyMuPDF: text under marks, reading order, kinds, bad files."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import pymupdf
import pytest

from studykit.errors import UserError
from studykit.model import Category
from studykit.sources import read_source
from studykit.sources.pdf import parse_pdf_date, read_pdf
from studykit.sources.pdf_metadata import document_id
from studykit.taxonomy import Taxonomy

LEFT = [f"Left column line {i:02d} with ordinary words" for i in range(30)]
RIGHT = [f"Right column line {i:02d} with other words" for i in range(30)]


def _save(doc, path):
    doc.save(path)
    doc.close()
    return path


def _highlight(page, phrase, color=(1, 0.831, 0), comment="", kind="highlight"):
    quads = page.search_for(phrase, quads=True)
    assert quads, phrase
    add = {"highlight": page.add_highlight_annot, "underline": page.add_underline_annot,
           "strikeout": page.add_strikeout_annot, "squiggly": page.add_squiggly_annot}[kind]
    annot = add(quads)
    annot.set_colors(stroke=color)
    if comment:
        annot.set_info(content=comment)
    annot.update()
    return annot


@pytest.fixture
def two_column(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()  # Letter, 612 x 792
    page.insert_text((150, 60), "A Title That Spans Both Columns Of This Page", fontsize=14)
    for i, (left, right) in enumerate(zip(LEFT, RIGHT)):
        page.insert_text((60, 100 + 20 * i), left, fontsize=10)
        page.insert_text((330, 100 + 20 * i), right, fontsize=10)
    # Made in the order a reader might: top of column two first, then the bottom of column one.
    _highlight(page, "Right column line 00", comment="top of column two")
    _highlight(page, "Left column line 29", comment="bottom of column one")
    _highlight(page, "Left column line 05")
    page.add_text_annot((560, 105), "note beside the top of column two")
    page.add_text_annot((20, 500), "note in the left margin, lower in column one")
    return _save(doc, tmp_path / "two_column.pdf")


def test_two_column_reading_order(two_column):
    anns = read_pdf(two_column).annotations
    assert [(a.kind, a.text or a.comment) for a in anns] == [
        ("highlight", "Left column line 05"),
        ("note", "note in the left margin, lower in column one"),
        ("highlight", "Left column line 29"),
        ("highlight", "Right column line 00"),
        ("note", "note beside the top of column two"),
    ]


def test_highlight_across_the_column_break_reads_column_one_then_two(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    for i, (left, right) in enumerate(zip(LEFT, RIGHT)):
        page.insert_text((60, 100 + 20 * i), left, fontsize=10)
        page.insert_text((330, 100 + 20 * i), right, fontsize=10)
    quads = page.search_for("Right column line 00", quads=True) + page.search_for("Left column line 29", quads=True)
    page.add_highlight_annot(quads)
    anns = read_pdf(_save(doc, tmp_path / "break.pdf")).annotations
    assert anns[0].text == "Left column line 29 Right column line 00"


def test_hyphen_at_line_end_is_removed_but_real_hyphens_stay(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    lines = ["the model keeps its regis-", "ters in a pre-norm layer of 16-", "bit values and non-", "VM address spaces"]
    for i, line in enumerate(lines):
        page.insert_text((72, 100 + 14 * i), line, fontsize=11)
    page.add_highlight_annot(pymupdf.Rect(70, 88, 400, 100 + 14 * 3 + 3))
    text = read_pdf(_save(doc, tmp_path / "hyphen.pdf")).annotations[0].text
    assert text == "the model keeps its registers in a pre-norm layer of 16-bit values and non-VM address spaces"


def test_ligatures_are_expanded(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    writer = pymupdf.TextWriter(page.rect)
    writer.append((72, 100), "the \ufb01rst e\ufb03cient \ufb02ow", font=pymupdf.Font("cjk"), fontsize=12)
    writer.write_text(page)
    doc.subset_fonts()
    assert "\ufb01" in page.get_text()  # the PDF really holds the ligature glyph
    page.add_highlight_annot(page.rect)
    assert read_pdf(_save(doc, tmp_path / "lig.pdf")).annotations[0].text == "the first efficient flow"


def test_highlight_overlapping_the_next_word_slightly_does_not_take_it(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "alpha beta gamma", fontsize=12)
    beta = page.search_for("beta")[0]
    gamma = page.search_for("gamma")[0]
    reach = beta.x1 + 0.3 * (gamma.x1 - gamma.x0)  # well into the 'g' of gamma, short of half of any letter
    page.add_highlight_annot(pymupdf.Rect(beta.x0 - 1, beta.y0, min(reach, gamma.x0 + 3), beta.y1))
    assert read_pdf(_save(doc, tmp_path / "overlap.pdf")).annotations[0].text == "beta"


def test_every_kind_with_images_for_areas_and_ink(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "under over struck wavy", fontsize=12)
    page.draw_rect(pymupdf.Rect(100, 300, 300, 400), color=(0, 0, 1), fill=(0.8, 0.9, 1))
    for kind, word in [("underline", "under"), ("highlight", "over"), ("strikeout", "struck"), ("squiggly", "wavy")]:
        _highlight(page, word, kind=kind)
    page.add_text_annot((400, 150), "sticky")
    page.add_freetext_annot(pymupdf.Rect(72, 200, 300, 230), "typed on the page")
    page.add_rect_annot(pymupdf.Rect(90, 290, 310, 410))
    page.add_ink_annot([[(100, 500), (150, 540), (200, 500)]])
    page.add_caret_annot((350, 150))
    anns = read_pdf(_save(doc, tmp_path / "kinds.pdf")).annotations
    by_kind = {a.kind: a for a in anns}
    assert set(by_kind) == {"underline", "highlight", "strikeout", "squiggly", "note", "freetext", "image", "ink", "caret"}
    assert [by_kind[k].text for k in ("underline", "highlight", "strikeout", "squiggly")] == ["under", "over", "struck", "wavy"]
    assert by_kind["note"].comment == "sticky" and by_kind["freetext"].comment == "typed on the page"
    for kind in ("image", "ink"):
        png = by_kind[kind].image
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        pix = pymupdf.Pixmap(png)
        rect = pymupdf.Rect(by_kind[kind].rects[0])
        assert pix.width >= rect.width * 150 / 72 - 2  # rendered at >= 150 dpi
    assert all(a.image is None for a in anns if a.kind not in ("image", "ink"))
    image_pix = pymupdf.Pixmap(by_kind["image"].image)
    assert image_pix.pixel(image_pix.width // 2, image_pix.height // 2)[:3] != (255, 255, 255)  # shows the drawing
    assert len({a.id for a in anns}) == len(anns)


def test_annotation_fields_and_categories(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "a key idea and a term and an open question", fontsize=12)
    _highlight(page, "key idea", color=(1, 0.4, 0.4))  # Zotero red
    _highlight(page, "term", color=(1, 1, 0))  # Acrobat yellow
    _highlight(page, "open question", color=(1, 1, 0), comment="#question why does this hold?")
    blank = page.add_highlight_annot(pymupdf.Rect(72, 600, 200, 615))  # nothing under it
    blank.set_info(title="Reader", creationDate="D:20260102030405+08'00'", modDate="D:20260103000000Z")
    blank.update()
    paper = read_pdf(_save(doc, tmp_path / "fields.pdf"))
    assert paper.annotations[2].comment == "#question why does this hold?"  # as the document says it
    key, term, question, empty = Taxonomy.default().classify(paper).annotations
    assert (key.category, key.color) == (Category.CONTRIBUTION, "#ff6666")
    assert (term.category, term.color) == (Category.DEFINITION, "#ffff00")
    assert (question.category, question.comment) == (Category.QUESTION, "why does this hold?")
    assert (empty.text, empty.author, empty.page, empty.page_label) == ("", "Reader", 1, "1")
    assert empty.created == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=8)))
    assert empty.modified == datetime(2026, 1, 3, tzinfo=timezone.utc)
    assert paper.pdf_path == (tmp_path / "fields.pdf").resolve()
    again = read_pdf(tmp_path / "fields.pdf")
    assert [a.id for a in again.annotations] == [a.id for a in paper.annotations]


def test_paper_id_survives_incremental_and_full_saves(tmp_path):
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 100), "Some paper text", fontsize=12)
    path = _save(doc, tmp_path / "paper.pdf")
    first = read_pdf(path).id
    assert first.startswith("pdf:")

    doc = pymupdf.open(path)
    doc[0].add_highlight_annot(doc[0].search_for("paper"))
    doc.save(path, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP)
    doc.close()
    assert len(read_pdf(path).annotations) == 1
    assert read_pdf(path).id == first

    doc = pymupdf.open(path)
    doc[0].add_text_annot((300, 300), "later")
    (tmp_path / "full").mkdir()
    doc.save(tmp_path / "full" / "paper.pdf", garbage=4, deflate=True)  # a full save, as "save as" over it writes
    doc.close()
    assert len(read_pdf(tmp_path / "full" / "paper.pdf").annotations) == 2
    assert read_pdf(tmp_path / "full" / "paper.pdf").id == first
    # A copy under another name is another annotated copy of the same document: its own note.
    shutil.copyfile(path, tmp_path / "copy.pdf")
    copy = read_pdf(tmp_path / "copy.pdf").id
    assert copy != first and document_id(copy) == document_id(first)

    other = pymupdf.open()
    other.new_page().insert_text((72, 100), "Another paper", fontsize=12)
    assert read_pdf(_save(other, tmp_path / "other.pdf")).id != first


def test_metadata_and_identifiers_from_the_first_page(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((100, 80), "An Image is Worth 16x16 Words", fontsize=20)
    page.insert_text((100, 120), "Alexey Dosovitskiy and others", fontsize=11)
    page.insert_text((100, 160), "doi:10.48550/arXiv.2010.11929. Published at ICLR.", fontsize=9)
    page.insert_text((20, 700), "arXiv:2010.11929v2 [cs.CV] 3 Jun 2021", fontsize=9)
    doc.set_metadata({"author": "Alexey Dosovitskiy; Lucas Beyer", "title": "paper.dvi"})
    paper = read_pdf(_save(doc, tmp_path / "vit.pdf"))
    assert paper.title == "An Image is Worth 16x16 Words"
    assert paper.authors == ["Alexey Dosovitskiy", "Lucas Beyer"]
    assert (paper.arxiv, paper.year, paper.doi) == ("2010.11929", 2020, "10.48550/arXiv.2010.11929")
    assert paper.annotations == []


def test_pdf_dates():
    assert parse_pdf_date("D:20170302143000+01'00'") == datetime(2017, 3, 2, 14, 30, tzinfo=timezone(timedelta(hours=1)))
    assert parse_pdf_date("D:20240625182216-07'00'").utcoffset() == timedelta(hours=-7)
    assert parse_pdf_date("D:20210101120000Z") == datetime(2021, 1, 1, 12, tzinfo=timezone.utc)
    assert parse_pdf_date("D:2019") == datetime(2019, 1, 1)
    assert parse_pdf_date("yesterday") is None and parse_pdf_date("") is None


def _simple_pdf() -> bytes:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 100), "text", fontsize=12)
    return doc.tobytes()


def test_encrypted_pdf_needs_its_password(tmp_path):
    doc = pymupdf.open("pdf", _simple_pdf())
    doc[0].add_highlight_annot(doc[0].search_for("text"))
    path = tmp_path / "locked.pdf"
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="sesame", owner_pw="owner")
    with pytest.raises(UserError, match=r"locked\.pdf: encrypted PDF.*--password"):
        read_pdf(path)
    with pytest.raises(UserError, match=r"locked\.pdf: wrong password"):
        read_pdf(path, password="nope")
    assert [a.text for a in read_pdf(path, password="sesame").annotations] == ["text"]


@pytest.mark.parametrize("make, message", [
    (lambda data: data[: len(data) // 2], "truncated PDF"),
    (lambda data: b"%PDF-1.7\n" + b"\x00garbage" * 50 + b"\n%%EOF\n", "corrupt PDF"),
    (lambda data: b"Just some notes, not a PDF\n", "not a PDF"),
])
def test_bad_files_give_one_line_naming_the_file(tmp_path, make, message):
    path = tmp_path / "bad.pdf"
    path.write_bytes(make(_simple_pdf()))
    with pytest.raises(UserError) as info:
        read_pdf(path)
    assert str(info.value).startswith(f"{path}: {message}") and "\n" not in str(info.value)


def test_read_source_dispatch(tmp_path):
    path = tmp_path / "one.pdf"
    path.write_bytes(_simple_pdf())
    papers = read_source(str(path))
    assert len(papers) == 1 and papers[0].pdf_path == path.resolve()
    with pytest.raises(UserError, match="no such file"):
        read_source(str(tmp_path / "missing.pdf"))
    with pytest.raises(UserError, match="zotero:"):
        read_source("zotero:")


def test_many_pages_stay_in_page_order(tmp_path):
    doc = pymupdf.open()
    for n in range(3):
        page = doc.new_page()
        page.insert_text((72, 100), f"page {n + 1} words", fontsize=12)
    for page in reversed(list(doc)):
        page.add_highlight_annot(page.search_for("words"))
    anns = read_pdf(_save(doc, tmp_path / "pages.pdf")).annotations
    assert [(a.page, a.text) for a in anns] == [(1, "words"), (2, "words"), (3, "words")]


def test_comment_kept_on_the_popup_is_read(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "hello world", fontsize=12)
    annot = page.add_highlight_annot(page.search_for("hello"))
    annot.set_popup(pymupdf.Rect(300, 100, 400, 200))
    annot.update()
    doc.xref_set_key(annot.popup_xref, "Contents", pymupdf.get_pdf_str("#疑问 (note) 为什么?"))
    (ann,) = Taxonomy.default().classify(read_pdf(_save(doc, tmp_path / "popup.pdf"))).annotations
    assert (ann.text, ann.comment, ann.category) == ("hello", "(note) 为什么?", Category.QUESTION)
