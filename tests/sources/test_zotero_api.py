"""Zotero API reader: the real pyzotero client against tests/zotero_server.py on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import time
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from studykit.errors import UserError
from studykit.model import Category
from studykit.sources import zotero_api, zotero_api_client
from studykit.taxonomy import Taxonomy
from zotero_fixture import SAMPLE_COLLECTIONS, build_library, generate_papers, make_pdf, sample_papers
from zotero_server import ZoteroServer


@pytest.fixture(scope="module")
def papers():
    return sample_papers()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, papers):
    return build_library(tmp_path_factory.mktemp("zotero"), papers, collections=SAMPLE_COLLECTIONS)


@pytest.fixture
def server(papers, data_dir):
    with ZoteroServer(papers, collections=SAMPLE_COLLECTIONS, data_dir=data_dir) as running:
        yield running


def test_local_api_reads_papers_annotations_and_local_pdfs(server, data_dir):
    papers = {p.zotero_key: p for p in zotero_api.read_library(endpoint=server.url)}
    assert set(papers) == {"VITPAPER", "ATTNNEED", "STANDPDF", "GPTBOOK1"}  # not the trashed one
    vit = Taxonomy.default().classify(papers["VITPAPER"])  # categories come from the classify stage
    assert (vit.id, vit.citekey, vit.arxiv, vit.year) == ("zotero:u:VITPAPER", "dosovitskiy2020image", "2010.11929", 2020)
    assert vit.pdf_path == data_dir / "storage" / "VITPDF01" / "vit.pdf"  # from /file/view/url
    assert [a.id for a in vit.annotations][:3] == ["ANNNOTE4", "ANNYEL01", "ANNBLU03"]
    assert "ANNDEL09" not in {a.id for a in vit.annotations}
    by_id = {a.id: a for a in vit.annotations}
    assert by_id["ANNTXT07"].kind == "freetext" and by_id["ANNMTH08"].category == Category.METHOD
    assert by_id["ANNIMG05"].image.startswith(b"\x89PNG")  # rendered from the local PDF
    assert by_id["ANNYEL01"].link == "zotero://open-pdf/library/items/VITPDF01?page=1&annotation=ANNYEL01"
    assert all(r.startswith("/api/users/0/") for r in server.requests)


def test_a_paper_selected_by_key_keeps_every_annotation(server):
    """Zotero never lists annotations under /children: a reader that asks there gets none."""
    [vit] = zotero_api.read_library(endpoint=server.url, items=["VITPAPER"])
    assert len(vit.annotations) == 8
    children = json.loads(urlopen(f"{server.url}/users/0/items/VITPDF01/children").read())
    assert children == []  # the PDF has no child attachments or notes, and annotations are not children here
    asked = json.loads(urlopen(f"{server.url}/users/0/items/VITPDF01/children?itemType=annotation").read())
    assert len(asked) == 8 and all("annotationText" not in a["data"] for a in asked
                                   if a["data"]["annotationType"] in ("note", "image", "ink", "text"))
    assert any("itemType=annotation" in r for r in server.requests)


def test_the_double_answers_as_zotero_does(server):
    def get(route: str, **headers):
        try:
            with urlopen(Request(f"{server.url}{route}", headers=headers)) as answer:
                return answer.status, answer.headers, answer.read()
        except HTTPError as refused:
            return refused.code, refused.headers, refused.read()

    status, headers, body = get("/users/0/items/top")
    top = json.loads(body)
    assert status == 200 and headers["Total-Results"] == str(len(top)) and headers["Zotero-Server-ID"]
    assert headers["Zotero-Schema-Version"] and "TRASHED1" not in {i["key"] for i in top}
    dates = [i["data"]["dateModified"] for i in top]
    assert dates == sorted(dates, reverse=True)  # dateModified, newest first, by default
    assert get("/users/0/items/TRASHED1")[2].count(b'"deleted": true') == 1
    version = headers["Last-Modified-Version"]
    assert get("/users/0/items/top", **{"If-Modified-Since-Version": version})[0] == 304
    assert get("/users/0/items?since=notanumber")[0] == 400
    assert get("/users/5/items")[0] == 400
    assert get("/users/0/items", **{"Zotero-Server-ID": "ANOTHER"})[0] == 412
    status, _, keys = get("/users/0/collections/COLLVIS1/items?format=keys")
    assert keys.decode().split() == ["VITPDF01", "VITSNAP1", "VITPAPER"] or set(keys.decode().split()) == {
        "VITPAPER", "VITPDF01", "VITSNAP1"}  # the paper and its child attachments, no annotation
    vit = json.loads(get("/users/0/items/VITPAPER")[2])
    assert vit["meta"]["numChildren"] == 2 and "createdByUser" not in vit["meta"]
    assert set(vit["links"]) >= {"self", "alternate", "attachment"}


def test_large_library_is_read_page_by_page_from_the_web_api(monkeypatch):
    monkeypatch.setenv("ZOTERO_LIBRARY_ID", "123456")
    library = generate_papers(130, 1)
    seen = []
    with ZoteroServer(library) as server:
        papers = zotero_api.read_library(local=False, endpoint=server.web_url,
                                         progress=lambda done, total: seen.append((done, total)))
    assert len(papers) == 130 and all(len(p.annotations) == 1 for p in papers)
    assert seen == [(100, 130), (130, 130)]  # the web API's pages hold at most 100
    top = [r for r in server.requests if "/items/top" in r]
    assert len(top) == 2 and "start=100" in top[1]


def test_rate_limit_waits_for_retry_after(server):
    server.fail(429, retry_after="1")
    started = time.monotonic()
    papers = zotero_api.read_library(endpoint=server.url, items=["ATTNNEED"])
    assert time.monotonic() - started >= 1.0
    assert papers[0].title == "Attention Is All You Need"
    assert server.requests[0] == server.requests[1]  # the same request, asked again


def test_server_errors_are_retried_then_reported(server, monkeypatch):
    server.fail(503, retry_after="1")
    started = time.monotonic()
    assert zotero_api.read_library(endpoint=server.url, items=["GPTBOOK1"])[0].authors == ["OpenAI"]
    assert time.monotonic() - started >= 1.0
    monkeypatch.setattr(zotero_api_client, "RETRY_BASE_S", 0.01)
    server.fail(500, times=zotero_api_client.RETRIES)
    with pytest.raises(UserError, match=f"answered 500 {zotero_api_client.RETRIES} times"):
        zotero_api.read_library(endpoint=server.url, items=["GPTBOOK1"])


def test_local_api_switched_off_says_how_to_enable_it(server):
    server.enabled = False
    with pytest.raises(UserError, match="Allow other applications on this computer to communicate with Zotero"):
        zotero_api.read_library(endpoint=server.url)


def test_zotero_not_running(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(zotero_api_client.ENDPOINT_ENV, f"http://127.0.0.1:{port}/api")
    with pytest.raises(UserError, match="cannot reach Zotero .* start Zotero 7 and enable"):
        zotero_api.read_library(items=["ABCD2345"])


def test_unknown_key_and_collection(server):
    with pytest.raises(UserError, match="no Zotero item with key NOPE2345"):
        zotero_api.read_library(endpoint=server.url, items=["NOPE2345"])
    with pytest.raises(UserError, match="no Zotero collection named or keyed 'Nope'"):
        zotero_api.read_library(endpoint=server.url, collections=["Nope"])
    with pytest.raises(UserError, match="TRASHED1 is in the trash"):
        zotero_api.read_library(endpoint=server.url, items=["TRASHED1"])
    with pytest.raises(UserError, match=r"^Zotero item ANNYEL01 is an annotation \(on PDF VITPDF01 of paper VITPAPER\): "
                                        "select zotero:VITPAPER instead$"):
        zotero_api.read_library(endpoint=server.url, items=["ANNYEL01"])


def test_refusals_are_one_line(server):
    server.fail(400, body="Invalid 'sort' value 'x'")
    with pytest.raises(UserError, match="answered 400: Invalid 'sort' value 'x'$"):
        zotero_api.read_library(endpoint=server.url, items=["GPTBOOK1"])
    server.fail(412, body="Zotero-Server-ID mismatch")
    with pytest.raises(UserError, match="answered 412: another Zotero database answers"):
        zotero_api.read_library(endpoint=server.url, items=["GPTBOOK1"])


def test_selection_by_attachment_collection_and_tag(server):
    def keys(**selection):
        return [p.zotero_key for p in zotero_api.read_library(endpoint=server.url, **selection)]

    assert keys(items=["VITPDF01"]) == ["VITPAPER"]
    assert keys(collections=["Reading"]) == ["ATTNNEED", "STANDPDF"]
    assert keys(collections=["COLLVIS1"], tags=["nlp"]) == ["ATTNNEED", "VITPAPER"]


def test_web_api_with_credentials_from_the_environment(papers, monkeypatch):
    monkeypatch.setenv("ZOTERO_LIBRARY_ID", "123456")
    monkeypatch.setenv("ZOTERO_API_KEY", "s3cret")
    with ZoteroServer(papers, collections=SAMPLE_COLLECTIONS, api_key="s3cret") as server:
        [vit] = zotero_api.read_library(local=False, endpoint=server.web_url, items=["VITPAPER"])
        assert server.requests[0].startswith("/users/123456/items/VITPAPER")
        assert vit.pdf_path is None and vit.annotations[0].rects == []  # no local file to place them on
        assert [a.text for a in vit.annotations if a.kind == "highlight"][0] == "split an image into fixed-size patches"
        monkeypatch.setenv("ZOTERO_API_KEY", "wrong")
        with pytest.raises(UserError, match="refused access to users/123456: check ZOTERO_API_KEY"):
            zotero_api.read_library(local=False, endpoint=server.web_url)
    monkeypatch.delenv("ZOTERO_LIBRARY_ID")
    with pytest.raises(UserError, match="set ZOTERO_LIBRARY_ID"):
        zotero_api.read_library(local=False)


def test_group_library_through_the_local_api(tmp_path):
    [paper] = generate_papers(1, 3, seed=5)
    attachment = paper["attachments"][0]
    attachment["pdf"] = make_pdf()
    attachment["annotations"][1]["createdByUser"] = {"id": 9, "username": "grace"}
    attachment["annotations"][2]["annotationAuthorName"] = "Imported Author"
    data_dir = build_library(tmp_path, [{**paper, "library": 777}])
    with ZoteroServer([{**paper, "library": 777}], data_dir=data_dir) as server:
        [read] = zotero_api.read_library(endpoint=server.url, library_type="group", library_id=777)
        [web] = zotero_api.read_library(local=False, endpoint=server.web_url, library_type="group",
                                        library_id=777, api_key="k")
    assert read.id == f"zotero:g777:{paper['key']}"
    assert read.pdf_path == data_dir / "storage" / attachment["key"] / attachment["filename"]
    # The local API cannot say who made an annotation (no createdByUser): never silently nobody.
    assert [a.author for a in read.annotations] == ["unknown", "unknown", "Imported Author"]
    assert [a.author for a in web.annotations] == ["unknown", "grace", "Imported Author"]
    assert read.annotations[0].link.startswith(f"zotero://open-pdf/groups/777/items/{attachment['key']}?page=1")
