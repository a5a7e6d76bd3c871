"""zotero.sqlite reader: a real-schema database and storage/ written by tests/zotero_fixture.py."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pymupdf
import pytest

from studykit.errors import UserError
from studykit.model import Category
from studykit.sources import zotero_db
from studykit.taxonomy import Taxonomy
from zotero_fixture import SAMPLE_COLLECTIONS, build_library, generate_papers, make_pdf, sample_papers


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    papers = sample_papers()
    data_dir = build_library(tmp_path_factory.mktemp("zotero"), papers, collections=SAMPLE_COLLECTIONS)
    return data_dir, papers


@pytest.fixture(scope="module")
def everything(library):
    return {p.zotero_key: p for p in zotero_db.read_library(library[0])}


def _spec_annotations(papers, attachment_key):
    for paper in papers:
        for attachment in paper.get("attachments", ()):
            if attachment["key"] == attachment_key:
                return attachment["annotations"]
    raise KeyError(attachment_key)


def test_paper_metadata_from_item_fields(everything, library):
    vit = everything["VITPAPER"]
    assert vit.id == "zotero:u:VITPAPER"
    assert vit.title.startswith("An Image is Worth 16x16 Words")
    assert vit.authors == ["Alexey Dosovitskiy", "Lucas Beyer", "Neil Houlsby"]  # the editor is no author
    assert (vit.year, vit.doi, vit.arxiv) == (2020, "10.48550/arXiv.2010.11929", "2010.11929")
    assert vit.citekey == "dosovitskiy2020image"  # the native citationKey field
    assert vit.tags == ["transformer", "vision"]
    assert vit.zotero_link == "zotero://select/library/items/VITPAPER"
    assert vit.pdf_path == library[0] / "storage" / "VITPDF01" / "vit.pdf"

    attention = everything["ATTNNEED"]
    assert attention.venue == "Advances in Neural Information Processing Systems"
    assert (attention.year, attention.citekey, attention.arxiv) == (2017, "vaswani2017attention", "1706.03762")
    assert attention.pdf_path is None  # Zotero knows the attachment, but its file was never downloaded

    assert everything["GPTBOOK1"].authors == ["OpenAI"]  # a single-field creator name
    standalone = everything["STANDPDF"]
    assert standalone.title == "attention-maps.pdf" and [a.text for a in standalone.annotations] == ["attention maps"]


def test_annotations_in_sort_index_order_with_kinds_and_categories(everything, library):
    vit = Taxonomy.default().classify(everything["VITPAPER"])  # categories come from the classify stage
    live = [a for a in _spec_annotations(library[1], "VITPDF01") if not a.get("deleted")]
    assert [a.id for a in vit.annotations] == [a["key"] for a in sorted(live, key=lambda a: a["annotationSortIndex"])]
    by_id = {a.id: a for a in vit.annotations}
    assert by_id["ANNTXT07"].kind == "freetext" and by_id["ANNBLU03"].kind == "underline"
    assert {by_id[k].kind for k in ("ANNIMG05", "ANNINK06", "ANNNOTE4")} == {"image", "ink", "note"}
    yellow = by_id["ANNYEL01"]
    assert (yellow.text, yellow.comment, yellow.color, yellow.category) == (
        "split an image into fixed-size patches", "the core idea", "#ffd400", Category.DEFINITION)
    assert by_id["ANNRED02"].category == Category.CONTRIBUTION and by_id["ANNRED02"].page == 2
    assert by_id["ANNRED02"].page_label == "2"
    assert by_id["ANNMTH08"].category == Category.METHOD  # the #method tag beats the yellow
    assert by_id["ANNMTH08"].tags == ["#method", "later"]
    assert yellow.created.isoformat() == "2024-03-01T10:01:00+00:00"
    assert yellow.modified.isoformat() == "2024-03-02T10:01:00+00:00"
    assert yellow.link == "zotero://open-pdf/library/items/VITPDF01?page=1&annotation=ANNYEL01"


def test_rects_are_page_coordinates_from_the_top_left(everything):
    vit = everything["VITPAPER"]
    highlight = next(a for a in vit.annotations if a.id == "ANNYEL01")
    with pymupdf.open(vit.pdf_path) as doc:
        expected = doc[0].search_for("split an image into fixed-size patches")[0]
    assert highlight.rects[0] == pytest.approx(tuple(expected), abs=0.01)


def test_image_annotation_rendered_from_the_pdf(everything):
    image = next(a for a in everything["VITPAPER"].annotations if a.kind == "image")
    pixmap = pymupdf.Pixmap(image.image)
    assert (pixmap.width, pixmap.height) == (pytest.approx(200 * 150 / 72, abs=2), pytest.approx(150 * 150 / 72, abs=2))
    r, g, b = pixmap.pixel(pixmap.width // 2, pixmap.height // 2)[:3]
    assert b > 200 and r < 80  # the blue 'figure' drawn in the PDF
    ink = next(a for a in everything["VITPAPER"].annotations if a.kind == "ink")
    assert pymupdf.Pixmap(ink.image).width > 300  # the strokes' bounding box, 162 pt wide


def test_image_annotation_prefers_zotero_cache(tmp_path):
    cached = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 7, 5), False).tobytes("png")
    data_dir = build_library(tmp_path, sample_papers(), image_cache={"ANNIMG05": cached})
    [vit] = zotero_db.read_library(data_dir, items=["VITPAPER"])
    assert next(a for a in vit.annotations if a.id == "ANNIMG05").image == cached


def test_trash_is_skipped(everything, library):
    assert "TRASHED1" not in everything
    assert "ANNDEL09" not in {a.id for a in everything["VITPAPER"].annotations}
    with pytest.raises(UserError, match="TRASHED1 is in the trash"):
        zotero_db.read_library(library[0], items=["TRASHED1"])


def test_selection_by_keys_collections_and_tags(library):
    def keys(**selection):
        return [p.zotero_key for p in zotero_db.read_library(library[0], **selection)]

    assert keys(items=["vitpdf01"]) == ["VITPAPER"]  # an attachment key selects its paper
    assert keys(collections=["Reading"]) == ["ATTNNEED", "STANDPDF"]
    assert keys(collections=["COLLVIS1"]) == ["VITPAPER"]  # by key; sub-collections are their own
    assert keys(tags=["nlp"]) == ["ATTNNEED"]  # the trashed paper with the tag stays out
    assert keys(items=["GPTBOOK1"], tags=["vision"]) == ["VITPAPER", "GPTBOOK1"]
    with pytest.raises(UserError, match="no Zotero item with key NOPE1234"):
        keys(items=["NOPE1234"])
    with pytest.raises(UserError, match="no Zotero collection named or keyed 'Nope'.*Reading"):
        keys(collections=["Nope"])
    with pytest.raises(UserError, match=r"VITSNAP1 is not a paper or a PDF attachment \(it is a attachment\)"):
        keys(items=["VITSNAP1"])


def test_reads_while_zotero_holds_an_exclusive_lock(library):
    db = library[0] / "zotero.sqlite"
    zotero = sqlite3.connect(db, isolation_level=None)
    zotero.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            sqlite3.connect(db, timeout=0).execute("SELECT count(*) FROM items").fetchone()
        papers = zotero_db.read_library(library[0], items=["VITPAPER"])
        assert len(papers[0].annotations) == 8
    finally:
        zotero.execute("ROLLBACK")
        zotero.close()


def test_bad_databases_name_the_file(tmp_path):
    with pytest.raises(UserError, match=f"{tmp_path}/zotero.sqlite: no Zotero database here"):
        zotero_db.read_library(tmp_path)
    (tmp_path / "zotero.sqlite").write_bytes(b"this is a text file, not SQLite at all" * 50)
    with pytest.raises(UserError, match="zotero.sqlite: not an SQLite database"):
        zotero_db.read_library(tmp_path)
    (tmp_path / "zotero.sqlite").unlink()
    sqlite3.connect(tmp_path / "zotero.sqlite").execute("CREATE TABLE items (itemID INTEGER)").connection.close()
    with pytest.raises(UserError, match="zotero.sqlite: not a Zotero 6/7 database .*itemAnnotations"):
        zotero_db.read_library(tmp_path)


def test_citation_key_from_better_bibtex(tmp_path):
    [paper] = generate_papers(1, 0)
    paper["extra"] = ""
    data_dir = build_library(tmp_path, [paper], native_citekey=False, better_bibtex={paper["key"]: "bbt2024key"})
    assert zotero_db.read_library(data_dir)[0].citekey == "bbt2024key"


def test_group_library_links_and_annotation_author(tmp_path):
    pdf = make_pdf()
    [paper] = generate_papers(1, 2, seed=3)
    paper["library"] = 4242
    attachment = paper["attachments"][0]
    attachment["pdf"] = pdf
    attachment["annotations"][0]["createdByUser"] = {"id": 77, "username": "ada"}
    data_dir = build_library(tmp_path, [paper])
    [read] = zotero_db.read_library(data_dir)
    key, attachment_key, first = paper["key"], attachment["key"], attachment["annotations"][0]["key"]
    assert read.id == f"zotero:g4242:{key}"
    assert read.zotero_link == f"zotero://select/groups/4242/items/{key}"
    annotation = next(a for a in read.annotations if a.id == first)
    assert annotation.author == "ada"
    assert annotation.link == f"zotero://open-pdf/groups/4242/items/{attachment_key}?page=1&annotation={first}"


def test_large_generated_library(tmp_path):
    data_dir = build_library(tmp_path, n_papers=200, annotations_per_paper=15)
    papers = zotero_db.read_library(data_dir)
    assert len(papers) == 200 and all(len(p.annotations) == 15 for p in papers)
    assert all(p.annotations == sorted(p.annotations, key=lambda a: a.sort_key) for p in papers)


def test_reading_the_database_does_not_import_torch(library):
    code = ("import sys; from studykit.sources import zotero_db, zotero_api; "
            f"zotero_db.read_library({str(library[0])!r}); print(json.dumps('torch' in sys.modules))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) is False
