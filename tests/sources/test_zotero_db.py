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
from studykit.sources import zotero_snapshot
from studykit.sources.zotero_prefs import PREFS_ENV
from zotero_fixture import (
    REAL_COLLECTIONS, SAMPLE_COLLECTIONS, ZoteroRunning, build_library, generate_papers, make_pdf, real_papers,
    sample_papers, write_prefs,
)
from studykit.taxonomy import Taxonomy


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
    with pytest.raises(UserError, match="zotero.sqlite: not a Zotero 7 or later database .*itemAnnotations"):
        zotero_db.read_library(tmp_path)
    (tmp_path / "zotero.sqlite").write_bytes(b"")
    with pytest.raises(UserError, match=r"zotero.sqlite: is empty \(0 bytes\), not a Zotero database$"):
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


# --- Zotero as it really runs ---------------------------------------------------------------


def _files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _comment(papers, key):
    return next(a.comment for p in papers for a in p.annotations if a.id == key)


@pytest.mark.parametrize("schema", [123, 129], ids=["Zotero 8.0.4", "Zotero 10"])
def test_an_edit_zotero_10_keeps_in_its_wal_is_read(tmp_path, schema):
    data_dir = build_library(tmp_path, sample_papers(), schema_version=schema)
    with ZoteroRunning(data_dir) as zotero:
        zotero.comment("ANNYEL01", "edited a minute ago")
        immutable = sqlite3.connect((data_dir / "zotero.sqlite").as_uri() + "?immutable=1", uri=True)
        stale = immutable.execute("SELECT comment FROM itemAnnotations JOIN items USING (itemID)"
                                  " WHERE key = 'ANNYEL01'").fetchone()
        immutable.close()
        assert stale == ("the core idea",)  # only the -wal has the edit: an immutable open misses it
        before = _files(data_dir)
        assert set(before) == {"zotero.sqlite", "zotero.sqlite-wal"}  # WAL index on the heap: no -shm
        assert _comment(zotero_db.read_library(data_dir, items=["VITPAPER"]), "ANNYEL01") == "edited a minute ago"
        assert _comment(zotero_db.read_library(data_dir), "ANNYEL01") == "edited a minute ago"
        assert _files(data_dir) == before  # nothing written beside the user's files
        zotero.comment("ANNYEL01", "and again")  # Zotero's exclusive lock is still its own
        zotero.checkpoint()
    assert _comment(zotero_db.read_library(data_dir), "ANNYEL01") == "and again"


def test_a_checkpoint_racing_the_copy_is_retried(tmp_path, monkeypatch):
    data_dir = build_library(tmp_path, sample_papers())
    copies = []
    real_copy = zotero_snapshot.shutil.copyfile
    with ZoteroRunning(data_dir) as zotero:
        zotero.comment("ANNYEL01", "first")

        def racing(source, target):
            copies.append(source)
            if len(copies) == 1:  # Zotero commits while the main file is being copied
                zotero.comment("ANNYEL01", "committed during the copy")
            return real_copy(source, target)

        monkeypatch.setattr(zotero_snapshot.shutil, "copyfile", racing)
        papers = zotero_db.read_library(data_dir, items=["VITPAPER"])
    assert len(copies) == 4  # two files, twice
    assert _comment(papers, "ANNYEL01") == "committed during the copy"


def test_a_wal_that_cannot_be_copied_consistently_says_close_zotero(tmp_path, monkeypatch):
    data_dir = build_library(tmp_path, sample_papers())
    monkeypatch.setattr(zotero_snapshot, "RETRY_BASE_S", 0.001)
    real_copy = zotero_snapshot.shutil.copyfile
    with ZoteroRunning(data_dir) as zotero:
        zotero.comment("ANNYEL01", "busy")

        def always_writing(source, target):
            zotero.comment("ANNYEL01", f"busy {source}")
            return real_copy(source, target)

        monkeypatch.setattr(zotero_snapshot.shutil, "copyfile", always_writing)
        with pytest.raises(UserError, match=r"zotero.sqlite-wal: changed while it was copied after 5 tries; "
                                            r"Zotero is writing or checkpointing it: close Zotero"):
            zotero_db.read_library(data_dir)

        def unreadable(source, target):
            raise PermissionError(13, "Permission denied", str(source))

        monkeypatch.setattr(zotero_snapshot.shutil, "copyfile", unreadable)
        with pytest.raises(UserError, match=r"zotero.sqlite-wal: cannot be read \(Permission denied\) after 5 tries"):
            zotero_db.read_library(data_dir)


@pytest.fixture
def real(tmp_path, monkeypatch):
    data_dir = build_library(tmp_path / "Zotero", real_papers(tmp_path / "linked"), collections=REAL_COLLECTIONS,
                             base_dir=tmp_path / "base")
    monkeypatch.setenv(PREFS_ENV, str(write_prefs(tmp_path / "profile", data_dir, tmp_path / "base")))
    return data_dir


def test_feed_entries_are_not_papers(real):
    papers = {p.zotero_key: p for p in zotero_db.read_library(real)}
    assert "FEEDENT1" not in papers
    assert papers["VITPAPER"].title.startswith("An Image is Worth")  # the feed entry with its key is no rival
    with pytest.raises(UserError, match="no Zotero item with key FEEDENT1"):
        zotero_db.read_library(real, items=["FEEDENT1"])
    assert [p.zotero_key for p in zotero_db.read_library(real, tags=["vision"])] == ["VITPAPER", "ROTPAPER", "GROUPP01"]


def test_linked_files_absolute_and_under_the_base_directory(real, tmp_path, monkeypatch):
    papers = {p.zotero_key: p for p in zotero_db.read_library(real, items=["LINKABS1", "LINKREL1"])}
    assert papers["LINKABS1"].pdf_path == tmp_path / "linked" / "elsewhere" / "report.pdf"
    assert papers["LINKREL1"].pdf_path == tmp_path / "base" / "Papers" / "relative.pdf"
    assert papers["LINKREL1"].annotations[0].image.startswith(b"\x89PNG")  # rendered from the resolved file
    monkeypatch.setenv(PREFS_ENV, str(tmp_path / "no-profile" / "prefs.js"))
    [unknown] = zotero_db.read_library(real, items=["LINKREL1"])
    assert unknown.pdf_path is None and len(unknown.annotations) == 1  # no base directory known: words still count
    monkeypatch.setenv(PREFS_ENV, str(write_prefs(tmp_path / "profile2", real, tmp_path / "unplugged-drive")))
    with pytest.raises(UserError, match=r"prefs.js: the linked-file base directory .*unplugged-drive "
                                        r"\(extensions.zotero.baseAttachmentPath\) does not exist"):
        zotero_db.read_library(real, items=["LINKREL1"])


@pytest.mark.parametrize("profile", ["none found", "no base directory set"])
def test_a_base_relative_file_with_no_base_directory_is_named_in_a_warning(real, tmp_path, monkeypatch, profile):
    """Zotero's own prefs say where `attachments:` paths lead; without them the note gets no PDF and
    no image, and the reader is told which item and what to do, not left to guess."""
    if profile == "none found":
        monkeypatch.delenv(PREFS_ENV)
        monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
        monkeypatch.delenv("APPDATA", raising=False)
    else:
        monkeypatch.setenv(PREFS_ENV, str(write_prefs(tmp_path / "profile3", real, None)))
    papers = {p.zotero_key: p for p in zotero_db.read_library(real, items=["LINKREL1", "LINKABS1"])}
    assert papers["LINKREL1"].pdf_path is None and papers["LINKREL1"].annotations[0].image is None
    [warning] = papers["LINKREL1"].warnings
    assert warning.startswith("Zotero item LINKREL1: its PDF LINKPDF2 is linked as attachments:Papers/relative.pdf")
    assert ("no Zotero profile was found" if profile == "none found" else "prefs.js sets no") in warning
    assert f"set {PREFS_ENV}" in warning and "Settings > Advanced > Files and Folders" in warning
    assert papers["LINKABS1"].warnings == []  # an absolute path needs no base directory


def test_the_profile_is_found_by_its_data_directory(real, tmp_path, monkeypatch):
    monkeypatch.delenv(PREFS_ENV)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    write_prefs(tmp_path / "home" / ".zotero" / "zotero", real, tmp_path / "base")
    [paper] = zotero_db.read_library(real, items=["LINKREL1"])
    assert paper.pdf_path == tmp_path / "base" / "Papers" / "relative.pdf"


def test_image_annotation_on_a_rotated_page_shows_what_is_under_it(real):
    [paper] = zotero_db.read_library(real, items=["ROTPAPER"])
    image = next(a for a in paper.annotations if a.id == "ANNROT01")
    pixmap = pymupdf.Pixmap(image.image)
    # The page is shown turned by 90 degrees: the 200 x 150 pt area is 150 wide and 200 high.
    assert (pixmap.width, pixmap.height) == (pytest.approx(150 * 150 / 72, abs=2), pytest.approx(200 * 150 / 72, abs=2))
    blue = sum(1 for x in range(0, pixmap.width, 10) for y in range(0, pixmap.height, 10)
               if pixmap.pixel(x, y)[2] > 200 and pixmap.pixel(x, y)[0] < 80)
    assert blue / (len(range(0, pixmap.width, 10)) * len(range(0, pixmap.height, 10))) > 0.95


def test_a_highlight_running_onto_the_next_page_has_both_pages_boxes(real):
    [paper] = zotero_db.read_library(real, items=["ROTPAPER"])
    running = next(a for a in paper.annotations if a.id == "ANNNEXT1")
    with pymupdf.open(paper.pdf_path) as doc:
        first = doc[0].search_for("to a standard Transformer encoder.")[0]
        second = doc[1].search_for("When pre-trained")[0]
    assert running.rects == [pytest.approx(tuple(first), abs=0.01), pytest.approx(tuple(second), abs=0.01)]
    assert running.text == "to a standard Transformer encoder. When pre-trained"
