"""One library, read through the Zotero local API and from zotero.sqlite, gives the same Papers.

The library is what a real profile holds (tests/zotero_fixture.py `real_papers`): feeds, a
trashed collection, linked files (absolute and base-relative), a rotated page, a highlight
running onto the next page, and a group with two users; the API double answers as Zotero does.
"""

from __future__ import annotations

import os

import pytest

from studykit.sources import zotero_api, zotero_db
from studykit.sources.zotero_prefs import PREFS_ENV
from zotero_fixture import GROUP_ID, REAL_COLLECTIONS, build_library, generate_papers, real_papers, write_prefs
from zotero_server import ZoteroServer


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("zotero")
    papers = real_papers(root / "linked") + generate_papers(10, 4, seed=11)
    data_dir = build_library(root / "data", papers, collections=REAL_COLLECTIONS, base_dir=root / "base")
    prefs = write_prefs(root / "profile", data_dir, root / "base")
    saved = os.environ.get(PREFS_ENV)
    os.environ[PREFS_ENV] = str(prefs)
    try:
        # One Zotero serves the user's library and the group's, as the real one does.
        with ZoteroServer(papers, collections=REAL_COLLECTIONS, data_dir=data_dir, base_dir=root / "base") as server:
            yield data_dir, server
    finally:
        os.environ.pop(PREFS_ENV) if saved is None else os.environ.__setitem__(PREFS_ENV, saved)


def _everything(papers):
    """All a Paper holds, images included (to_json only says whether there is one)."""
    return [(p.to_json(), [a.image for a in p.annotations], [a.sort_key for a in p.annotations]) for p in papers]


def _without_group_authors(papers):
    """Who made a group annotation: the database knows the Zotero user; the local API has no such
    field and says "unknown" (test_group_annotation_authors): blanked, so the rest can be compared."""
    for paper in papers:
        if paper.id.startswith("zotero:g"):
            for annotation in paper.annotations:
                annotation.author = ""
    return papers


@pytest.mark.parametrize("selection", [
    {},
    {"items": ["VITPDF01", "STANDPDF", "ROTPAPER", "LINKREL1", "LINKABS1", "GROUPP01"]},
    {"collections": ["Reading", "COLLVIS1", "Group reading"]},
    {"tags": ["nlp", "generated", "vision"]},
    {"items": ["GROUPP01"]}, {"collections": ["Group reading"]},
], ids=["whole library", "keys", "collections", "tags", "a group paper's key", "a group collection"])
def test_api_and_database_agree_on_every_library(library, selection):
    data_dir, server = library
    from_db = _without_group_authors(zotero_db.read_library(data_dir, **selection))
    from_api = _without_group_authors(zotero_api.read_library(endpoint=server.url, **selection))
    assert [p.id for p in from_api] == [p.id for p in from_db]
    assert _everything(from_api) == _everything(from_db)
    assert sum(len(p.annotations) for p in from_db) > 0
    assert "FEEDENT1" not in {p.zotero_key for p in from_db}  # a feed entry is no paper
    if "tags" in selection or not selection or "GROUPP01" in selection.get("items", ()) \
            or "Group reading" in selection.get("collections", ()):
        assert f"zotero:g{GROUP_ID}:GROUPP01" in {p.id for p in from_api}  # the group is read too


def test_whole_library_holds_what_a_real_profile_holds(library):
    data_dir, server = library
    papers = {p.id: p for p in zotero_db.read_library(data_dir)}
    assert papers["zotero:u:VITPAPER"].title.startswith("An Image is Worth")  # not the feed entry with its key
    assert papers["zotero:u:LINKABS1"].pdf_path is not None and papers["zotero:u:LINKREL1"].pdf_path is not None
    assert papers[f"zotero:g{GROUP_ID}:GROUPP01"].title == "A paper the group reads"
    running_on = next(a for a in papers["zotero:u:ROTPAPER"].annotations if a.id == "ANNNEXT1")
    assert len(running_on.rects) == 2 and running_on.text.endswith("When pre-trained")


def test_group_annotation_authors(library):
    data_dir, server = library
    [from_db] = zotero_db.read_library(data_dir, items=["GROUPP01"])
    [from_api] = zotero_api.read_library(endpoint=server.url, items=["GROUPP01"])
    [one_group] = zotero_api.read_library(endpoint=server.url, library_type="group", library_id=GROUP_ID,
                                          items=["GROUPP01"])
    # Who made an annotation: the database knows the Zotero user; the local API has no such
    # field, so it says "unknown", never an empty author. A name the PDF gave comes from both.
    assert [a.author for a in from_db.annotations] == ["grace", "ada", "Imported Author"]
    assert [a.author for a in from_api.annotations] == ["unknown", "unknown", "Imported Author"]
    assert _everything([from_api]) == _everything([one_group])


def test_the_comparison_sees_a_difference(library):
    """Guard: a library that differs in one comment does not compare equal."""
    data_dir, server = library
    from_db = zotero_db.read_library(data_dir, items=["VITPAPER"])
    served = next(item["data"] for item in server.items if item["key"] == "ANNYEL01")
    served["annotationComment"] = "changed"
    try:
        assert _everything(zotero_api.read_library(endpoint=server.url, items=["VITPAPER"])) != _everything(from_db)
    finally:
        served["annotationComment"] = "the core idea"


@pytest.mark.parametrize("reader", ["api", "db"])
def test_selecting_an_annotation_or_a_trashed_collection_says_so(library, reader):
    data_dir, server = library

    def read(**selection):
        if reader == "db":
            return zotero_db.read_library(data_dir, **selection)
        return zotero_api.read_library(endpoint=server.url, **selection)

    from studykit.errors import UserError

    with pytest.raises(UserError, match=r"^Zotero item ANNROT01 is an annotation \(on PDF ROTPDF01 of paper "
                                        r"ROTPAPER\): select zotero:ROTPAPER instead$"):
        read(items=["ANNROT01"])
    with pytest.raises(UserError, match=r"no Zotero collection named or keyed 'Old reading' \(collections: .*\)$"):
        read(collections=["Old reading"])


@pytest.mark.parametrize("reader", ["api", "db"])
@pytest.mark.parametrize("key", ["", "  ", "../../items", "AB/CD", "VIT PAPER"])
def test_a_key_that_cannot_be_zoteros_is_refused_in_one_line_by_both_readers(library, reader, key):
    """What `sync --item ''` or a pasted path gives: no request built from it, one line (an empty key
    made the API reader ask for /items/ and fail on the listing it got back)."""
    data_dir, server = library
    from studykit.errors import UserError

    with pytest.raises(UserError, match=r"^not a Zotero item key: .*\(8 letters and digits, as in ABCD2345\)$"):
        if reader == "db":
            zotero_db.read_library(data_dir, items=[key])
        else:
            zotero_api.read_library(endpoint=server.url, items=[key])


def test_progress_counts_on_over_the_libraries(library):
    _, server = library
    seen = []
    zotero_api.read_library(endpoint=server.url, progress=lambda done, total: seen.append((done, total)))
    top = sum(1 for lib in server.libraries.values() for i in lib.items
              if not i["data"].get("parentItem") and not lib.trashed(i))
    assert len(seen) == 2 and seen[-1] == (top, top)  # one listing per library; never back to zero
    assert seen == sorted(seen)
