"""One library, read through the Zotero API and from zotero.sqlite, gives the same Papers."""

from __future__ import annotations

import pytest

from studykit.sources import zotero_api, zotero_db
from zotero_fixture import SAMPLE_COLLECTIONS, build_library, generate_papers, sample_papers
from zotero_server import ZoteroServer


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    papers = sample_papers() + generate_papers(20, 6, seed=11)
    data_dir = build_library(tmp_path_factory.mktemp("zotero"), papers, collections=SAMPLE_COLLECTIONS)
    with ZoteroServer(papers, collections=SAMPLE_COLLECTIONS, data_dir=data_dir, max_limit=25) as server:
        yield data_dir, server


def _everything(papers):
    """All a Paper holds, images included (to_json only says whether there is one)."""
    return [(p.to_json(), [a.image for a in p.annotations], [a.sort_key for a in p.annotations]) for p in papers]


@pytest.mark.parametrize("selection", [
    {},
    {"items": ["VITPDF01", "STANDPDF"]},
    {"collections": ["Reading", "COLLVIS1"]},
    {"tags": ["nlp", "generated"]},
], ids=["whole library", "attachment keys", "collections", "tags"])
def test_api_and_database_agree(library, selection):
    data_dir, server = library
    from_db = zotero_db.read_library(data_dir, **selection)
    from_api = zotero_api.read_library(endpoint=server.url, **selection)
    assert [p.zotero_key for p in from_api] == [p.zotero_key for p in from_db]
    assert _everything(from_api) == _everything(from_db)
    assert sum(len(p.annotations) for p in from_db) > 0


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
