"""A definition highlight becomes a [[concept]] link only when the highlighted text reads as a term."""

from __future__ import annotations

import re

import pytest

from locations import corpus, needs_corpus
from studykit.model import Annotation
from studykit.note import concept_name


def _named(text: str) -> str:
    return concept_name(Annotation(id="a", kind="highlight", page=1, text=text))


@pytest.mark.parametrize("text, name", [
    ("Inductive Bias", "Inductive Bias"),
    ("  inductive bias. ", "inductive bias"),
    ("self-attention", "self-attention"),
    ("GPT-3", "GPT-3"),
    ("ResNet50", "ResNet50"),
    ("16-bit modes", "16-bit modes"),
    ("L2 regularization", "L2 regularization"),
    ("k-nearest neighbours", "k-nearest neighbours"),
    ("Bag of Words", "Bag of Words"),
    ("The Fixation of Belief", "The Fixation of Belief"),
    ("Müller's theorem", "Müller's theorem"),
    ("注意力机制", "注意力机制"),
    ("crazy.", "crazy"),
])
def test_a_term_is_linked_by_its_words(text, name):
    assert _named(text) == name


@pytest.mark.parametrize("text", [
    ",5?<65FG5E+6/,-6=>B/",  # pdf.js tracemonkey: a font without a Unicode map
    "5 65FG5E+6 -6 B",
    "Supports any of the fol",  # pdf.js annot-canvas: the box ends inside "following"
    "e HTMLImageElement",  # ... and starts inside "the"
    "m sagittis scele",
    "el leo. Ut ni",
    "e",
    "no",
    "5",
    "It will have a landscape layout",  # a clause, not a name
    "load k from the trace activation",
    "Adobe Corporation#",
    "a whole sentence that is far too long to be the name of a concept",
])
def test_text_that_is_not_a_term_gives_no_link(text):
    assert _named(text) == ""


REALWORLD = corpus("realworld")


@needs_corpus("realworld")
def test_real_pdfs_link_their_terms_and_keep_the_quotes_of_the_rest(tmp_path):
    from studykit import notes
    from studykit.note import inline
    from studykit.sources.pdf import read_pdf

    papers = [read_pdf(REALWORLD / name) for name in ("pdfjs_annot-tracemonkey.pdf", "pdfjs_annot-canvas.pdf")]
    ws = notes.open_workspace(tmp_path / "vault")
    text = "".join(r.path.read_text(encoding="utf-8") for _, r in notes.write_papers(ws, papers))
    links = set(re.findall(r"\[\[([^\]|#]+)\]\]", text))
    assert "controlflow-recursive" in links and "Canvas" in links
    assert not {"5 65FG5E+6 -6 B", "Supports any of the fol", "e HTMLImageElement"} & links
    for quote in ("Supports any of the fol", "e HTMLImageElement"):
        assert "> " + inline(quote) in text
