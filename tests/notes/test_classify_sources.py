"""One classification stage for every source: the same annotations read from a PDF file, through the
Zotero API and from zotero.sqlite give the same note sections, override prefixes included."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pymupdf
import pytest

from locations import TEMPLATES as TEMPLATE_DIR
from studykit.config import Config
from studykit.model import Category
from studykit.note import build_context
from studykit.render import render
from studykit.sources import zotero_api, zotero_db
from studykit.sources.pdf import read_pdf
from studykit.taxonomy import Taxonomy
from zotero_fixture import _annotation, build_library, make_pdf, text_position
from zotero_server import ZoteroServer

# (words on page 1 or 2, colour, comment as the reader typed it)
MARKS = [
    (0, "split an image into fixed-size patches", "#ffd400", "#question why 16x16?"),
    (0, "add position embeddings", "#2ea8e5", "#疑问 为什么加位置?"),
    (1, "excellent results", "#ff6666", "#公式"),
    (1, "translation equivariance", "#5fb236", "#red the key point"),
    (1, "such as", "#a28ae5", "a plain comment"),
]
# Templates of this checkout (the installed package's may be another checkout's).
TEMPLATES = Config(templates_dir=TEMPLATE_DIR)
SECTIONS = ["motivation", "concepts", "formulas", "results", "methods", "limitations", "background", "questions",
            "uncategorized"]


def _zotero_papers(pdf: bytes) -> list[dict]:
    annotations = [
        _annotation(f"ANNCLS{i:02d}", "highlight", text_position(pdf, page, words), f"{page:05d}|{i:06d}|{100 + i:05d}",
                    i, annotationText=words, annotationColor=color, annotationComment=comment)
        for i, (page, words, color, comment) in enumerate(MARKS)
    ]
    annotations.append(_annotation("ANNCLSTG", "highlight", text_position(pdf, 0, "standard Transformer"),
                                   "00000|000099|00199", 9, annotationText="standard Transformer",
                                   annotationColor="#ffd400", tags=[{"tag": "Result"}, {"tag": "later"}]))
    return [{"key": "CLSPAPER", "itemType": "preprint", "title": "Same marks, three sources",
             "dateAdded": "2024-02-01T09:00:00Z", "dateModified": "2024-02-02T09:00:00Z",
             "attachments": [{"key": "CLSPDF01", "itemType": "attachment", "linkMode": "imported_file",
                              "title": "Full Text PDF", "contentType": "application/pdf", "filename": "same.pdf",
                              "dateAdded": "2024-02-01T09:01:00Z", "dateModified": "2024-02-01T09:01:00Z",
                              "pdf": pdf, "annotations": annotations}]}]


def _annotated_pdf(pdf: bytes, path):
    doc = pymupdf.open(stream=pdf)
    for n, words, color, comment in MARKS:
        page = doc[n]
        annot = page.add_highlight_annot(page.search_for(words))
        annot.set_colors(stroke=[int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        annot.set_info(content=comment)
        annot.update()
    doc.save(path)
    return path


def _sections(paper) -> dict[str, str]:
    """The note's annotation sections, with what must differ between sources (links, ids) blanked."""
    taxonomy = Taxonomy.default()
    text = render("paper_note.md.j2", build_context(paper, taxonomy=taxonomy, created=date(2026, 1, 1)),
                  config=TEMPLATES)
    out = {}
    for name in SECTIONS:
        body = re.search(rf"%% studykit:begin {name} %%\n(.*?)%% studykit:end {name}", text, re.S).group(1)
        body = re.sub(r"\[(p\. [^\]]+)\]\(zotero://[^)]*\)", r"\1", body)  # a PDF outside the vault has no link
        out[name] = re.sub(r"\^ann-[\w-]+", "^ID", body)
    return out


@pytest.fixture(scope="module")
def three_sources(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("classify")
    pdf = make_pdf()
    papers = _zotero_papers(pdf)
    data_dir = build_library(tmp / "zotero", papers)
    with ZoteroServer(papers, data_dir=data_dir) as server:
        from_api = zotero_api.read_library(endpoint=server.url, items=["CLSPAPER"])
    from_db = zotero_db.read_library(data_dir, items=["CLSPAPER"])
    from_pdf = read_pdf(_annotated_pdf(pdf, tmp / "same.pdf"))
    return from_pdf, from_api[0], from_db[0]


def test_sources_return_comments_as_written(three_sources):
    for paper in three_sources:
        comments = {a.comment for a in paper.annotations}
        assert {"#question why 16x16?", "#疑问 为什么加位置?", "#公式", "#red the key point"} <= comments
        assert {a.category for a in paper.annotations} == {Category.UNCATEGORIZED}  # nothing decided yet


def test_pdf_api_and_database_give_the_same_note_sections(three_sources):
    from_pdf, from_api, from_db = three_sources
    untagged = [replace(p, annotations=[a for a in p.annotations if not a.tags]) for p in three_sources]
    sections = _sections(untagged[0])
    assert sections == _sections(untagged[1]) == _sections(untagged[2])
    assert "why 16x16?" in sections["questions"] and "#question" not in sections["questions"]
    assert "为什么加位置?" in sections["questions"] and "#疑问" not in sections["questions"]
    assert "excellent results" in sections["formulas"] and "#公式" not in sections["formulas"]
    assert "the key point" in sections["motivation"] and "#red" not in sections["motivation"]
    assert "a plain comment" in sections["methods"]


def test_a_zotero_tag_naming_a_category_wins_over_the_colour_from_api_and_database(three_sources):
    _, from_api, from_db = three_sources
    api, db = _sections(from_api), _sections(from_db)
    assert api == db
    assert "standard Transformer" in api["results"] and "standard Transformer" not in api["concepts"]
