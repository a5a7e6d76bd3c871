"""One PDF made here with PyMuPDF per reading rule: line-end hyphens, TeX accents, column regions,
row jitter, ids, replies, rotated pages, empty and outside areas, damaged files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pymupdf
import pytest

from locations import TEMPLATES as TEMPLATE_DIR
from studykit.config import Config
from studykit.errors import UserError
from studykit.model import Category
from studykit.note import build_context
from studykit.render import render
from studykit.sources.pdf import read_pdf
from studykit.sources.pdf_text import compose_accents, join_lines
from studykit.taxonomy import Taxonomy

# Templates of this checkout (the installed package's may be another checkout's).
TEMPLATES = Config(templates_dir=TEMPLATE_DIR)

def _dejavu() -> Path:
    """DejaVu Sans (keeps U+00AD and spacing accents as written): the system's, else the copy matplotlib ships."""
    import matplotlib

    system = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    return system if system.is_file() else Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


DEJAVU = _dejavu()


def _save(doc, path) -> Path:
    doc.save(path)
    doc.close()
    return path


def _box(page, phrase) -> pymupdf.Rect:
    """The box of exactly these characters within one line (search_for would reach across lines)."""
    for block in page.get_text("rawdict")["blocks"]:
        for line in block.get("lines", ()):
            chars = [c for span in line["spans"] for c in span["chars"]]
            text = "".join(c["c"] for c in chars)
            at = text.find(phrase)
            if at >= 0:
                box = pymupdf.Rect(chars[at]["bbox"])
                for c in chars[at:at + len(phrase)]:
                    box |= c["bbox"]
                return box
    raise AssertionError(phrase)


def _mark(page, *phrases, kind="highlight", color=(1, 1, 0), comment=""):
    boxes = [_box(page, p) for p in phrases]
    annot = {"highlight": page.add_highlight_annot, "strikeout": page.add_strikeout_annot,
             "squiggly": page.add_squiggly_annot}[kind](boxes)
    annot.set_colors(stroke=color)
    if comment:
        annot.set_info(content=comment)
    annot.update()
    return annot


def _lines(page, top, lines, x=72, fontname="helv"):
    for i, line in enumerate(lines):
        page.insert_text((x, top + 14 * i), line, fontsize=11, fontname=fontname)


# ---------------------------------------------------------------- words broken at line ends


def test_box_ending_before_the_lines_hyphen_still_joins_the_word(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    _lines(page, 100, ["these languages are pop-", "ular since they are expressive"])
    _mark(page, "are pop", "ular since")  # the box stops before the hyphen, as pdf.js's did
    (a,) = read_pdf(_save(doc, tmp_path / "h.pdf")).annotations
    assert a.text == "are popular since"


def test_compound_prefix_keeps_its_hyphen_and_capitals_keep_theirs(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    _lines(page, 100, ["a value that is non-", "existent here and a pre-", "Norm block"])
    _mark(page, "is non-", "existent here")
    _mark(page, "a pre-", "Norm block")
    first, second = read_pdf(_save(doc, tmp_path / "c.pdf")).annotations
    assert first.text == "is non-existent here"
    assert second.text == "a pre-Norm block"


def test_the_document_decides_before_the_rule(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    _lines(page, 100, ["We built TraceMonkey. The Trace-", "Monkey compiler is the state-of-",
                       "the-art; fol-", "lowers of the state-of-the-art method"])
    _mark(page, "The Trace-", "Monkey compiler")  # TeX's hyphen in a word the text spells whole
    _mark(page, "is the state-of-", "the-art")  # a compound the text spells with its hyphens
    _mark(page, "fol-", "lowers of")
    anns = read_pdf(_save(doc, tmp_path / "d.pdf")).annotations
    assert sorted(a.text for a in anns) == ["The TraceMonkey compiler", "followers of", "is the state-of-the-art"]


def test_the_pages_around_are_asked_when_the_page_cannot_say(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    _lines(page, 100, ["the Java-", "Script engine"])
    _mark(page, "the Java-", "Script engine")
    doc.new_page().insert_text((72, 100), "Later pages mention JavaScript once.", fontsize=11)
    (a,) = read_pdf(_save(doc, tmp_path / "w.pdf")).annotations
    assert a.text == "the JavaScript engine"


def test_soft_hyphen_at_a_line_end_joins(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_font(fontname="dv", fontfile=str(DEJAVU))
    _lines(page, 100, ["an expla\u00ad", "nation follows and an Inter\u00ad", "Net"], fontname="dv")
    _mark(page, "an expla", "nation follows")  # the box leaves the soft hyphen out
    _mark(page, "an Inter\u00ad", "Net")  # the box takes it in; a soft hyphen never stays
    first, second = read_pdf(_save(doc, tmp_path / "soft.pdf")).annotations
    assert first.text == "an explanation follows"
    assert second.text == "an InterNet"


class _Evidence:
    def __init__(self, near=(), far=()):
        self._near, self._far = near, far

    def near(self):
        return iter(self._near)

    def far(self):
        return iter(self._far)


def test_far_evidence_is_asked_only_where_the_rule_keeps_the_hyphen():
    far = _Evidence(far=[{"javascript", "fine-tuning"}])
    assert join_lines([("Java-", ""), ("Script", "")], far) == "JavaScript"
    assert join_lines([("fine-", ""), ("tuning", "")], far) == "finetuning"  # the rule joins: far is not asked
    near = _Evidence(near=[{"fine-tuning"}])
    assert join_lines([("fine-", ""), ("tuning", "")], near) == "fine-tuning"
    assert join_lines([("Java-", ""), ("Script", "")], _Evidence(far=[{"java-script"}])) == "Java-Script"


def test_join_lines_rules():
    never = _Evidence()  # a document that says nothing either way
    assert join_lines([("16-", ""), ("bit words", "")], never) == "16-bit words"
    assert join_lines([("regis-", ""), ("ters", "")], never) == "registers"
    assert join_lines([("self-", ""), ("attention", "")], never) == "self-attention"
    assert join_lines([("ends at pop", "-")], never) == "ends at pop"  # the next line is not in the mark
    assert join_lines([("a -", ""), ("b", "")], never) == "a - b"  # a dash, not a word's hyphen
    assert join_lines([("", ""), ("only", "")], never) == "only"


# ---------------------------------------------------------------- TeX accents


@pytest.mark.parametrize("tex, text", [
    ("na\u00a8\u0131ve", "naïve"), ("\u00b4ecole", "école"), ("`a la", "à la"), ("h\u02c6otel", "hôtel"),
    ("se\u02dcnor", "señor"), ("gar\u00b8con", "garçon"), ("c\u00b8a", "ça"), ("\u02c7cesk\u00b4y", "český"),
    ("``quoted''", "``quoted''"),  # TeX's opening quotes stay quotes
    ("plain text", "plain text"),
])
def test_compose_accents(tex, text):
    assert compose_accents(tex) == text


def test_tex_accents_in_a_highlight_are_composed(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_font(fontname="dv", fontfile=str(DEJAVU))
    _lines(page, 100, ["a na\u00a8\u0131ve \u00b4ecole fa\u00b8cade"], fontname="dv")
    line = page.get_text("dict")["blocks"][0]["lines"][0]["bbox"]
    page.add_highlight_annot(pymupdf.Rect(line)).update()
    (a,) = read_pdf(_save(doc, tmp_path / "tex.pdf")).annotations
    assert a.text == "a naïve école façade"


# ---------------------------------------------------------------- reading order


def test_spanning_title_and_authors_above_two_columns(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()  # Letter, 612 wide
    header = ["A Long Title That Spans The Whole Page Width Above Both Columns",
              "With A Subtitle Just As Wide As The Title Above It Is Wide",
              "Author One, Author Two, Author Three, Author Four",
              "University of Somewhere, Department of Computer Science",
              "Another Institute, Another Department, Another City",
              "{one, two, three, four}@example.org"]
    for i, line in enumerate(header):
        page.insert_text((306 - 3 * len(line), 60 + 16 * i), line, fontsize=11)
    for i in range(24):
        page.insert_text((60, 200 + 16 * i), f"left column line {i:02d} with words", fontsize=10)
        page.insert_text((330, 200 + 16 * i), f"right column line {i:02d} with words", fontsize=10)
    _mark(page, "right column line 00")
    _mark(page, "left column line 20")
    _mark(page, "Author One")
    anns = read_pdf(_save(doc, tmp_path / "first.pdf")).annotations
    assert [a.text for a in anns] == ["Author One", "left column line 20", "right column line 00"]


def test_a_two_point_jitter_within_a_line_keeps_the_words_in_order(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    # Drawn right run first and 2 pt higher: their middles fall in different 3 pt bands.
    page.insert_text((140, 299.65), "there are", fontsize=11)
    page.insert_text((72, 301.65), "even when", fontsize=11)
    page.insert_text((200, 301.65), "the end", fontsize=11)
    _mark(page, "even when", "there are", "the end")
    (a,) = read_pdf(_save(doc, tmp_path / "jitter.pdf")).annotations
    assert a.text == "even when there are the end"


# ---------------------------------------------------------------- ids and replies


def test_two_squares_on_one_rectangle_get_different_ids_that_survive_saves(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    for color in ((1, 0, 0), (0, 0, 1)):
        annot = page.add_rect_annot(pymupdf.Rect(100, 100, 200, 200))
        annot.set_colors(stroke=color)
        annot.update()
    path = _save(doc, tmp_path / "squares.pdf")
    ids = [a.id for a in read_pdf(path).annotations]
    assert len(set(ids)) == 2
    doc = pymupdf.open(path)
    doc[0].add_text_annot((300, 300), "added later")
    doc.save(tmp_path / "full.pdf", garbage=3)
    doc.saveIncr()
    doc.close()
    for saved in (path, tmp_path / "full.pdf"):
        again = [a.id for a in read_pdf(saved).annotations if a.kind == "image"]
        assert sorted(again) == sorted(ids)


def test_without_nm_the_id_comes_from_the_object_and_its_content(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    xrefs = []
    for text in ("same place, one text", "same place, other text"):
        annot = page.add_text_annot((100, 100), text)
        xrefs.append(annot.xref)
    path = _save(doc, tmp_path / "nonm.pdf")
    doc = pymupdf.open(path)
    for xref in xrefs:
        doc.xref_set_key(xref, "NM", "null")
    doc.saveIncr()
    doc.close()
    a, b = read_pdf(path).annotations
    assert a.id != b.id


def test_copies_with_one_nm_still_get_unique_ids(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    for _ in range(3):
        annot = page.add_text_annot((100, 100), "pasted")
        doc.xref_set_key(annot.xref, "NM", pymupdf.get_pdf_str("same-name"))
    anns = read_pdf(_save(doc, tmp_path / "copies.pdf")).annotations
    assert len({a.id for a in anns}) == 3


def _reply(doc, page, parent_xref, text, author, when, rect=(0, 0, 0, 0)):
    reply = page.add_text_annot((0, 0), text)
    reply.set_info(title=author, modDate=when, creationDate=when)
    reply.update()
    doc.xref_set_key(reply.xref, "IRT", f"{parent_xref} 0 R")
    doc.xref_set_key(reply.xref, "Rect", "[{} {} {} {}]".format(*rect))
    return reply


def test_replies_fold_into_their_parent_oldest_first(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "a claim worth a thread", fontsize=11)
    parent = _mark(page, "a claim", comment="is this right?")
    circle = page.add_circle_annot(pymupdf.Rect(300, 300, 350, 350))  # a mark studykit does not list
    _reply(doc, page, parent.xref, "second answer", "Bo", "D:20260102000000Z")
    _reply(doc, page, parent.xref, "first answer", "Ann", "D:20260101000000Z")
    _reply(doc, page, circle.xref, "about the circle", "Cy", "D:20260103000000Z")
    _reply(doc, page, circle.xref, "", "Cy", "D:20260103000000Z")  # an empty reply to it says nothing
    anns = read_pdf(_save(doc, tmp_path / "irt.pdf")).annotations
    assert [(a.kind, a.text, a.comment) for a in anns] == [
        ("highlight", "a claim", "is this right?"), ("note", "", "about the circle")]
    assert [(r.author, r.text, r.created.day) for r in anns[0].replies] == [("Ann", "first answer", 1),
                                                                             ("Bo", "second answer", 2)]
    assert anns[0].thread() == "is this right?\n↳ Ann (2026-01-01): first answer\n↳ Bo (2026-01-02): second answer"
    assert len({a.id for a in anns}) == 2


def test_the_lines_under_a_band_are_those_a_walk_over_every_line_finds(tmp_path):
    from studykit.sources.pdf_layout import PageText

    doc = pymupdf.open()
    page = doc.new_page()
    for i, size in enumerate([24, 9, 9, 14, 9, 30, 9, 9, 11, 9] * 3):  # lines of many heights, two columns
        page.insert_text((54 + 264 * (i % 2), 60 + 24 * i), f"line {i} of some words", fontsize=size)
    saved = pymupdf.open(_save(doc, tmp_path / "band.pdf"))
    page_text = PageText(saved[0])
    lines = page_text.lines
    assert len(lines) == 30
    for top in range(0, 800, 7):
        for height in (0.5, 3, 11, 40, 300):
            walked = [ln for ln in lines if ln[3] > top and ln[1] < top + height]
            assert page_text.lines_across(top, top + height) == walked


def _nearest_by_walking(lines, x, y) -> int:
    """The first line in reading order among the nearest the point, every line measured."""
    rank, nearest = 0, float("inf")
    for i, (lx0, ly0, lx1, ly1) in enumerate(lines):
        dx = lx0 - x if x < lx0 else x - lx1 if x > lx1 else 0.0
        dy = ly0 - y if y < ly0 else y - ly1 if y > ly1 else 0.0
        if dx * dx + dy * dy < nearest:
            rank, nearest = i, dx * dx + dy * dy
    return rank


def test_the_nearest_line_is_the_one_a_walk_over_every_line_finds(tmp_path):
    from studykit.sources.pdf_layout import PageText

    doc = pymupdf.open()
    page = doc.new_page()
    for i, size in enumerate([24, 9, 9, 14, 9, 30, 9, 9, 11, 9] * 3):  # lines of many heights, two columns
        page.insert_text((54 + 264 * (i % 2), 60 + 24 * i), f"line {i} of some words", fontsize=size)
    page.insert_text((54, 60), "overprinted", fontsize=9)  # a line on another: equally near, by rank
    page_text = PageText(pymupdf.open(_save(doc, tmp_path / "near.pdf"))[0])
    lines = page_text.lines
    points = [(x, y) for x in range(-40, 700, 13) for y in range(-40, 850, 11)]
    points += [(lines[3][0], lines[3][1]), (lines[3][2], lines[3][3]), (float("inf"), 300.0), (300.0, float("-inf")),
               (float("nan"), 200.0), (100.0, float("nan"))]  # corners, and what a broken file gives
    for x, y in points:
        assert page_text.nearest(x, y) == _nearest_by_walking(lines, x, y), (x, y)


# ---------------------------------------------------------------- pictures


def _ink_and_square_on_a_rotated_page(tmp_path) -> Path:
    doc = pymupdf.open()
    page = doc.new_page()  # 612 x 792, unrotated coordinates
    page.draw_rect(pymupdf.Rect(100, 100, 400, 200), color=(0, 0, 1), fill=(0.2, 0.4, 0.9))
    page.add_rect_annot(pymupdf.Rect(90, 90, 410, 210)).update()  # 320 wide, 120 high
    page.add_ink_annot([[(100, 500), (200, 560), (300, 500)]]).update()
    page.set_rotation(90)
    return _save(doc, tmp_path / "rotated.pdf")


def test_pictures_on_a_rotated_page_show_the_area_turned_as_the_reader_sees_it(tmp_path):
    anns = read_pdf(_ink_and_square_on_a_rotated_page(tmp_path)).annotations
    square = next(a for a in anns if a.kind == "image")
    pix = pymupdf.Pixmap(square.image)
    assert pix.height > pix.width  # 320 x 120 turned by 90 degrees
    assert abs(pix.height - 320 * 150 / 72) <= 8 and abs(pix.width - 120 * 150 / 72) <= 8  # with its border
    assert pix.pixel(pix.width // 2, pix.height // 2) != (255, 255, 255)  # the figure, not blank paper
    ink = next(a for a in anns if a.kind == "ink")
    ink_pix = pymupdf.Pixmap(ink.image)
    assert len(set(ink_pix.samples)) > 1 and ink_pix.height > ink_pix.width  # strokes 200 wide, 60 high, turned


def test_reading_without_pictures_gives_the_same_annotations_with_no_png(tmp_path):
    path = _ink_and_square_on_a_rotated_page(tmp_path)
    drawn, undrawn = read_pdf(path), read_pdf(path, pictures=False)
    assert all(a.image.startswith(b"\x89PNG") for a in drawn.annotations)
    assert [a.image for a in undrawn.annotations] == [None, None]
    for a, b in zip(drawn.annotations, undrawn.annotations, strict=True):
        assert {**a.to_json(), "has_image": None} == {**b.to_json(), "has_image": None}
        assert a.sort_key == b.sort_key


def _set_rect(path: Path, subtype: str, rect: str) -> None:
    doc = pymupdf.open(path)
    for annot in doc[0].annots():
        if annot.type[1] == subtype:
            doc.xref_set_key(annot.xref, "Rect", rect)
    doc.saveIncr()
    doc.close()


@pytest.mark.parametrize("rect, notice", [
    ("[100 100 100 100]", "no picture: the annotation marks no area"),
    ("[2000 2000 2100 2100]", "no picture: the area lies outside the page"),
    ("[2147483520 2147483520 -2147483648 -2147482752]", "no picture: the annotation marks no area"),
])
def test_an_area_with_no_picture_says_why(tmp_path, rect, notice):
    doc = pymupdf.open()
    page = doc.new_page()
    page.add_rect_annot(pymupdf.Rect(100, 100, 200, 200)).update()
    path = _save(doc, tmp_path / "area.pdf")
    _set_rect(path, "Square", rect)
    (a,) = read_pdf(path).annotations
    assert a.image is None and a.notice.startswith(notice)
    assert read_pdf(path, pictures=False).annotations[0].notice == a.notice  # decided without drawing
    context = build_context(Taxonomy.default().classify(read_pdf(path)), taxonomy=Taxonomy.default(),
                            created=date(2026, 1, 1))
    assert notice in render("paper_note.md.j2", context, config=TEMPLATES)


def test_ink_with_an_infinite_rectangle_is_drawn_from_its_strokes(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.add_ink_annot([[(100, 500), (200, 560), (300, 500)]]).update()
    path = _save(doc, tmp_path / "ink.pdf")
    _set_rect(path, "Ink", "[2147483520 2147483520 -2147483648 -2147482752]")
    (a,) = read_pdf(path).annotations
    pix = pymupdf.Pixmap(a.image)
    assert pix.width > pix.height > 100 and len(set(pix.samples)) > 1
    assert a.rects and all(abs(v) < 1000 for v in a.rects[0])


def test_an_overly_large_image_is_skipped_with_a_warning_not_a_traceback(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.add_rect_annot(pymupdf.Rect(100, 100, 200, 200)).update()
    path = _save(doc, tmp_path / "bomb.pdf")
    doc = pymupdf.open(path)
    page = doc[0]
    image = doc.get_new_xref()
    doc.update_object(image, "<< /Type /XObject /Subtype /Image /Width 200000 /Height 200000 "
                             "/ColorSpace /DeviceGray /BitsPerComponent 8 /Length 0 >>")
    doc.update_stream(image, b"\0" * 64)
    page.insert_text((72, 72), "page text", fontsize=11)
    content = page.get_contents()[0]
    kind, resources = doc.xref_get_key(page.xref, "Resources")
    holder = int(resources.split()[0]) if kind == "xref" else page.xref
    doc.xref_set_key(holder, "XObject" if kind == "xref" else "Resources/XObject", f"<< /Bomb {image} 0 R >>")
    doc.update_stream(content, doc.xref_stream(content) + b"\nq 100 0 0 100 100 592 cm /Bomb Do Q\n")
    doc.saveIncr()
    doc.close()
    (a,) = read_pdf(path).annotations  # no exception: the area is listed, with or without its picture
    assert a.kind == "image" and (a.image is not None or a.notice.startswith("no picture"))


# ---------------------------------------------------------------- damaged files


def _pdf_with_pages(tmp_path, replace: bytes, by: bytes) -> Path:
    """A two-page PDF whose page tree object has `replace` changed to `by` (written byte for byte:
    PyMuPDF refuses to save such a tree)."""
    doc = pymupdf.open()
    doc.new_page()
    doc.new_page()
    pages = doc.xref_get_key(doc.pdf_catalog(), "Pages")[1].split()[0]
    data = doc.tobytes()
    doc.close()
    assert data.count(replace) == 1
    path = tmp_path / "tree.pdf"
    path.write_bytes(data.replace(replace, by.replace(b"PAGES", pages.encode())))
    return path


@pytest.mark.parametrize("replace, by, message", [
    (b"/Kids[", b"/Kids[PAGES 0 R ", "cycle in page tree"),
    (b"/Count 2", b"/Count -3", "damaged PDF"),
])
def test_a_malformed_page_tree_is_one_line(tmp_path, replace, by, message):
    path = _pdf_with_pages(tmp_path, replace, by)
    with pytest.raises(UserError) as err:
        read_pdf(path)
    assert str(path) in str(err.value) and message in str(err.value) and "\n" not in str(err.value)


def test_nul_padding_after_the_end_is_accepted(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "padded file", fontsize=11)
    _mark(page, "padded")
    path = _save(doc, tmp_path / "padded.pdf")
    path.write_bytes(path.read_bytes() + b"\0" * 2048)
    assert [a.text for a in read_pdf(path).annotations] == ["padded"]


def test_a_file_cut_before_its_end_says_so_plainly(tmp_path):
    doc = pymupdf.open()
    doc.new_page()
    path = tmp_path / "cut.pdf"
    path.write_bytes(doc.tobytes()[:-200])
    with pytest.raises(UserError) as err:
        read_pdf(path)
    assert str(err.value) == f"{path}: truncated PDF (the end-of-file marker is missing)"


# ---------------------------------------------------------------- kinds in the note


def test_kinds_that_change_the_meaning_are_shown_in_the_note(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "keep this, drop that, wavy claim", fontsize=11)
    _mark(page, "keep this", color=(1, 0, 0))
    _mark(page, "drop that", kind="strikeout", color=(1, 0, 0))
    _mark(page, "wavy claim", kind="squiggly", color=(1, 0, 0))
    caret = page.add_caret_annot((300, 95))
    caret.set_info(content="insert a comma")
    caret.set_colors(stroke=(1, 0, 0))
    caret.update()
    paper = read_pdf(_save(doc, tmp_path / "kinds.pdf"))
    taxonomy = Taxonomy.default()
    classified = taxonomy.classify(paper)
    assert {a.category for a in classified.annotations} == {Category.CONTRIBUTION}
    text = render("paper_note.md.j2", build_context(paper, taxonomy=taxonomy, created=date(2026, 1, 1)),
                  config=TEMPLATES)
    lines = text.splitlines()

    def callout_of(quote: str) -> str:
        """The callout line a quoted text sits under."""
        return next(line for line in reversed(lines[:lines.index(quote)]) if line.startswith("> [!"))

    assert "struck out" in callout_of("> drop that")
    assert "squiggly" in callout_of("> wavy claim")
    assert "suggested insertion" in callout_of("> insert a comma")
    assert not any(word in callout_of("> keep this") for word in ("struck", "squiggly", "insertion"))


# ---------------------------------------------------------------- what a careful reader would not expect to break


def _small_metrics_font(tmp_path) -> Path:
    """DejaVu Sans with ascender and descender spanning 0.6 em (0.45 / -0.15): MuPDF's line boxes are
    that tall, while a reader's highlight covers the font size."""
    from fontTools.ttLib import TTFont  # matplotlib's dependency

    font = TTFont(DEJAVU)
    upm = font["head"].unitsPerEm
    ascent, descent = int(0.45 * upm), int(-0.15 * upm)
    font["hhea"].ascent, font["hhea"].descent = ascent, descent
    os2 = font["OS/2"]
    os2.sTypoAscender, os2.sTypoDescender, os2.usWinAscent, os2.usWinDescent = ascent, descent, ascent, -descent
    font.save(tmp_path / "small.ttf")
    return tmp_path / "small.ttf"


def test_marks_on_one_line_keep_their_order_in_a_font_of_small_metrics(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_font(fontname="sm", fontfile=str(_small_metrics_font(tmp_path)))
    page.insert_text((270, 107), "short line above", fontsize=10, fontname="sm")
    page.insert_text((50, 122), "alpha beta gamma delta epsilon zeta eta", fontsize=14, fontname="sm")
    for word in ("zeta", "beta"):
        box = page.search_for(word)[0]
        page.add_highlight_annot(pymupdf.Rect(box.x0, box.y1 - 14, box.x1, box.y1 + 1))  # a reader's: 1 em tall
    anns = read_pdf(_save(doc, tmp_path / "small_font.pdf")).annotations
    assert [a.text for a in anns] == ["beta", "zeta"]


def test_text_drawn_at_size_zero_does_not_take_part_in_reading_order(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "Normal words here on a line", fontsize=12)
    page.insert_text((72, 130), "second line of normal words", fontsize=12)
    xref = page.get_contents()[0]
    font = page.get_fonts()[0][4]
    doc.update_stream(xref, doc.xref_stream(xref) + f"\nBT /{font} 0 Tf 72 300 Td (zero size text) Tj ET\n".encode())
    page.add_text_annot((500, 545), "note A")
    page.add_text_annot((72, 560), "note B")
    anns = read_pdf(_save(doc, tmp_path / "zero.pdf")).annotations
    assert [a.comment for a in anns] == ["note B", "note A"]  # both below the text: by their place on the page


@pytest.mark.parametrize("rule", ["<</Nums [0 <</S/D>> 1 <</S/D/St 1.5>>]>>", "<</Nums [0 <</P(x)/St /Foo>>]>>"])
def test_a_malformed_page_label_rule_gives_the_page_number(tmp_path, rule):
    doc = pymupdf.open()
    for i in range(2):
        doc.new_page().insert_text((72, 100), f"Some words on page {i + 1}", fontsize=12)
    doc[1].add_highlight_annot(doc[1].search_for("words")[0])
    doc.xref_set_key(doc.pdf_catalog(), "PageLabels", rule)
    (ann,) = read_pdf(_save(doc, tmp_path / "labels.pdf")).annotations
    assert (ann.text, ann.page, ann.page_label) == ("words", 2, "2")


def test_a_highlight_with_strokes_instead_of_quads_is_kept_without_text(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "Normal words here on a line", fontsize=12)
    annot = page.add_highlight_annot(pymupdf.Rect(70, 85, 250, 105))
    doc.xref_set_key(annot.xref, "QuadPoints", "null")
    doc.xref_set_key(annot.xref, "InkList", "[[72 700 200 700] [72 690 200 690] [72 680 200 680] [72 670 200 670]]")
    (ann,) = read_pdf(_save(doc, tmp_path / "strokes.pdf")).annotations
    assert (ann.kind, ann.text) == ("highlight", "")


def _pdf_with_a_tounicode_map(path: Path, cmap: str) -> Path:
    """One page of Helvetica text whose font maps its codes to Unicode through `cmap`, written by hand."""
    content = b"BT /F1 14 Tf 72 700 Td (ABCDE normal) Tj ET"
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>>",
               b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding/ToUnicode 6 0 R>>",
               b"<</Length %d>>stream\n%s\nendstream" % (len(content), content),
               b"<</Length %d>>stream\n%s\nendstream" % (len(cmap), cmap.encode())]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def test_a_lone_surrogate_from_a_tounicode_map_becomes_a_replacement_character(tmp_path):
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def\n"
            "1 begincodespacerange <00> <FF> endcodespacerange\n1 beginbfchar <42> <D800> endbfchar\n"
            "endcmap CMapName currentdict /CMap defineresource pop end end")
    doc = pymupdf.open(_pdf_with_a_tounicode_map(tmp_path / "plain.pdf", cmap))
    doc[0].add_highlight_annot(pymupdf.Rect(60, 80, 400, 100))
    (ann,) = read_pdf(_save(doc, tmp_path / "surrogate.pdf")).annotations
    assert ann.text == "A\ufffdCDE normal" and ann.text.encode("utf-8")


def test_lines_rawdict_lists_otherwise_are_matched_by_overlap(tmp_path, monkeypatch):
    from studykit.sources.pdf_layout import PageText

    doc = pymupdf.open()
    page = doc.new_page()
    for i in range(4):
        page.insert_text((72, 100 + 20 * i), f"line number {i} of the page", fontsize=12)
    page.add_highlight_annot(page.search_for("number 2")[0])
    path = _save(doc, tmp_path / "overlap.pdf")
    crossing = PageText._crossing
    monkeypatch.setattr(PageText, "_crossing", lambda self, *area: crossing(self, *area) + [(0.0, 0.0, 1.0, 1.0)])
    (ann,) = read_pdf(path).annotations
    assert ann.text == "number 2"
