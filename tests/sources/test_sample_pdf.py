"""studykit.sample_pdf, the one PDF builder: what it writes reads back through studykit's PDF reader
as the reader's marks, with their words, colours, comments and kinds."""

from __future__ import annotations

import pymupdf
import pytest

from studykit import sample_pdf
from studykit.sources.pdf import read_pdf


def test_marks_read_back_with_their_words_colour_comment_and_page(write_pdf):
    path = write_pdf([["Patches are embedded linearly", "a class token is prepended"], ["position embeddings are added"]],
                    [("embedded linearly", "#ff6666", "core"), ("position embeddings", (0.18, 0.66, 0.9), ""),
                     ("class token", "#ffd400", "why first?")],
                    metadata={"title": "A Sample", "author": "Ada Lovelace"})
    paper = read_pdf(path)
    assert paper.title == "A Sample"
    assert [(a.page, a.kind, a.text, a.color, a.comment) for a in paper.annotations] == [
        (1, "highlight", "embedded linearly", "#ff6666", "core"),
        (1, "highlight", "class token", "#ffd400", "why first?"),
        (2, "highlight", "position embeddings", "#2ea8e5", ""),
    ]


@pytest.mark.parametrize("kind", sorted(sample_pdf.MARKUPS))
def test_every_markup_kind_is_what_the_reader_calls_it(tmp_path, kind):
    doc = sample_pdf.text_pages([["the words under the mark"]], fontsize=12)
    sample_pdf.mark(doc[0], "words under", "#5fb236", "seen", kind=kind)
    doc.save(tmp_path / "marked.pdf")
    [ann] = read_pdf(tmp_path / "marked.pdf").annotations
    assert (ann.kind, ann.text, ann.color, ann.comment) == (kind, "words under", "#5fb236", "seen")


def test_lines_sit_where_the_layout_puts_them():
    doc = pymupdf.open(stream=sample_pdf.build([["first line", "second line"]], size=(400, 500), x=50, y=80, step=30))
    first, second = (doc[0].search_for(word)[0] for word in ("first", "second"))
    assert doc[0].rect == pymupdf.Rect(0, 0, 400, 500)
    assert (round(first.x0), round(second.x0)) == (50, 50) and round(second.y1 - first.y1) == 30
    assert first.y0 < 80 < first.y1  # (x, y) is the first line's baseline


def test_a_phrase_not_in_the_document_is_an_error_naming_it():
    doc = sample_pdf.text_pages([["only this"]])
    with pytest.raises(ValueError, match="'missing words'"):
        sample_pdf.mark_first(doc, "missing words")
    with pytest.raises(ValueError, match="page 1 has no 'missing words'"):
        sample_pdf.mark(doc[0], "missing words")
