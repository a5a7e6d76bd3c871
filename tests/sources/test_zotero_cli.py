"""`studykit sync` and `studykit annotations` against the Zotero local-API double and real zotero.sqlite files."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from studykit.cli import main
from studykit.sources.zotero_api_client import ENDPOINT_ENV
from studykit.sources.zotero_prefs import PREFS_ENV
from studykit.sources.zotero_versions import CACHE_FILE
from zotero_fixture import REAL_COLLECTIONS, build_library, real_papers, sample_papers, write_prefs
from zotero_server import ZoteroServer


def _tree(folder):
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


def _notes(vault):
    return {p.name: p.read_text(encoding="utf-8") for p in (vault / "Papers").glob("*.md")}


@pytest.fixture
def served(zotero_server, monkeypatch):
    """The local API double (conftest.py), the one studykit finds."""
    monkeypatch.setenv(ENDPOINT_ENV, zotero_server.url)
    return zotero_server


def test_sync_item_through_the_local_api_keeps_every_annotation(served, vault, capsys):
    assert main(["sync", "--vault", str(vault), "--item", "VITPAPER"]) == 0
    [text] = _notes(vault).values()
    assert text.count("^ann-") == 8 and "the core idea" in text
    assert "1 created" in capsys.readouterr().out


def test_resync_through_the_api_asks_zotero_what_changed(served, vault, capsys):
    assert main(["sync", "--vault", str(vault)]) == 0
    assert "4 created" in capsys.readouterr().out
    assert (vault / CACHE_FILE).is_file()
    before, asked = _tree(vault / "Papers"), len(served.requests)
    assert main(["sync", "--vault", str(vault)]) == 0
    assert "0 created, 0 updated, 4 unchanged" in capsys.readouterr().out
    again = served.requests[asked:]
    # which groups Zotero has, then one question per library, answered 304
    assert len(again) == 2 and "/users/0/groups" in again[0]
    assert "format=versions" in again[1] and "since=" in again[1]
    assert _tree(vault / "Papers") == before

    served.edit("ANNYEL01", annotationComment="changed in Zotero")
    asked = len(served.requests)
    assert main(["sync", "--vault", str(vault)]) == 0
    assert "0 created, 1 updated, 3 unchanged" in capsys.readouterr().out
    assert any("changed in Zotero" in text for text in _notes(vault).values())
    assert not any("/items/GPTBOOK1" in r or "ATTNPDF1" in r for r in served.requests[asked:])  # only VITPAPER read

    served.edit("ANNRED02", deleted=True)  # the reader trashes a highlight
    assert main(["sync", "--vault", str(vault)]) == 0
    assert "1 updated" in capsys.readouterr().out
    assert not any("excellent results" in text for text in _notes(vault).values())


def test_another_zotero_database_is_not_trusted(vault, capsys, monkeypatch):
    papers = sample_papers()
    with ZoteroServer(papers, server_id="FIRST") as first:
        monkeypatch.setenv(ENDPOINT_ENV, first.url)
        assert main(["sync", "--vault", str(vault), "--tag", "nlp"]) == 0
    papers[1]["attachments"][0]["annotations"][0]["annotationComment"] = "another machine"
    with ZoteroServer(papers, server_id="SECOND") as second:  # its version counter is another's
        monkeypatch.setenv(ENDPOINT_ENV, second.url)
        assert main(["sync", "--vault", str(vault), "--tag", "nlp"]) == 0
        assert any("since=0" in r for r in second.requests)
    assert "1 updated" in capsys.readouterr().out.splitlines()[-1]
    assert any("another machine" in text for text in _notes(vault).values())


def _studykit(*args, env=None):
    return subprocess.run([sys.executable, "-m", "studykit", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_bad_input_is_one_line_exit_2_and_nothing_written(served, vault):
    env = {ENDPOINT_ENV: served.url}
    for args in (["annotations", "zotero:ANNYEL01"], ["sync", "--vault", str(vault), "--item", "ANNYEL01"],
                 ["sync", "--vault", str(vault), "--item", "NOPE2345"]):
        proc = _studykit(*args, env=env)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert "is an annotation" in _studykit("annotations", "zotero:ANNYEL01", env=env).stderr
    served.enabled = False
    proc = _studykit("sync", "--vault", str(vault), env=env)
    assert proc.returncode == 2 and "answered 403" in proc.stderr and "Allow other applications" in proc.stderr
    assert _tree(vault) == {}


def test_a_missing_base_directory_stops_the_sync_before_writing(tmp_path):
    vault = tmp_path / "vault"  # not made: the sync must not make even the folder
    data = build_library(tmp_path / "Zotero", real_papers(tmp_path / "linked"), collections=REAL_COLLECTIONS,
                         base_dir=tmp_path / "base")
    prefs = write_prefs(tmp_path / "profile", data, tmp_path / "gone")
    proc = _studykit("sync", "--vault", str(vault), "--zotero-data-dir", str(data), env={PREFS_ENV: str(prefs)})
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "base directory" in proc.stderr and "does not exist" in proc.stderr
    assert not vault.exists()


def test_no_base_directory_is_one_warning_line_from_sync_and_annotations(tmp_path):
    vault = tmp_path / "vault"
    data = build_library(tmp_path / "Zotero", real_papers(tmp_path / "linked"), collections=REAL_COLLECTIONS,
                         base_dir=tmp_path / "base")
    env = {PREFS_ENV: str(write_prefs(tmp_path / "profile", data, None))}
    for args in (["sync", "--vault", str(vault), "--item", "LINKREL1"], ["annotations", "zotero:LINKREL1"]):
        proc = _studykit(*args, "--zotero-data-dir", str(data), env=env)
        assert proc.returncode == 0, proc.stderr
        [line] = [line for line in proc.stderr.splitlines() if line.startswith("studykit: warning:")]
        assert "Zotero item LINKREL1" in line and "base directory" in line and PREFS_ENV in line


@pytest.mark.parametrize("damage", ["empty", "not sqlite", "no database"])
def test_a_bad_database_leaves_no_vault_folder_behind(tmp_path, damage):
    """The vault the user named does not exist yet: a sync that fails must not leave it, even empty."""
    data = tmp_path / "Zotero"
    data.mkdir()
    if damage == "empty":
        (data / "zotero.sqlite").write_bytes(b"")
    elif damage == "not sqlite":
        (data / "zotero.sqlite").write_bytes(b"SQLite format 3\0" + bytes(range(256)) * 8)
    vault = tmp_path / "new" / "vault"
    proc = _studykit("sync", "--vault", str(vault), "--zotero-data-dir", str(data))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "new").exists()


def test_a_zotero_that_does_not_answer_leaves_no_vault_folder_behind(served, tmp_path):
    served.enabled = False
    vault = tmp_path / "vault"
    proc = _studykit("sync", "--vault", str(vault), env={ENDPOINT_ENV: served.url})
    assert proc.returncode == 2 and "answered 403" in proc.stderr
    assert not vault.exists()


def test_a_mistyped_key_fails_before_zotero_is_asked(served, tmp_path):
    asked = len(served.requests)
    proc = _studykit("sync", "--vault", str(tmp_path / "vault"), "--item", "", env={ENDPOINT_ENV: served.url})
    assert proc.returncode == 2 and proc.stderr.startswith("studykit: error: not a Zotero item key: ''")
    assert len(served.requests) == asked and not (tmp_path / "vault").exists()


def test_annotations_of_a_paper_through_the_local_api(served, capsys):
    import json

    assert main(["annotations", "zotero:VITPAPER", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 8 and {r["paper"] for r in rows} == {"zotero:u:VITPAPER"}


def test_an_attachment_key_resyncs_by_version(served, vault, capsys):
    assert main(["sync", "--vault", str(vault), "--item", "VITPDF01"]) == 0
    assert main(["sync", "--vault", str(vault), "--item", "VITPDF01"]) == 0
    assert "0 created, 0 updated, 1 unchanged" in capsys.readouterr().out


def test_many_papers_to_read_take_the_listings_a_few_their_keys(tmp_path, capsys, monkeypatch):
    from zotero_fixture import generate_papers

    papers = generate_papers(25, 2, seed=4)
    vault = tmp_path / "vault"
    with ZoteroServer(papers) as server:
        monkeypatch.setenv(ENDPOINT_ENV, server.url)
        assert main(["sync", "--vault", str(vault)]) == 0
        assert "25 created" in capsys.readouterr().out
        assert not any("/children" in r for r in server.requests)  # three listings, no request per paper
        server.edit(papers[3]["attachments"][0]["annotations"][1]["key"], annotationComment="revised")
        asked = len(server.requests)
        assert main(["sync", "--vault", str(vault)]) == 0
        assert "0 created, 1 updated, 24 unchanged" in capsys.readouterr().out
        assert sum("/children" in r for r in server.requests[asked:]) == 2  # the paper's PDFs, then its annotations


@pytest.fixture
def real_library(tmp_path, monkeypatch):
    """A real profile's library (groups, feeds, linked files) as zotero.sqlite and through the local API."""
    papers = real_papers(tmp_path / "linked")
    data = build_library(tmp_path / "Zotero", papers, collections=REAL_COLLECTIONS, base_dir=tmp_path / "base")
    monkeypatch.setenv(PREFS_ENV, str(write_prefs(tmp_path / "profile", data, tmp_path / "base")))
    with ZoteroServer(papers, collections=REAL_COLLECTIONS, data_dir=data, base_dir=tmp_path / "base") as server:
        monkeypatch.setenv(ENDPOINT_ENV, server.url)
        yield data, server


def test_sync_through_the_local_api_writes_the_notes_the_database_gives(real_library, tmp_path, capsys):
    """Your library and your group libraries, the same notes either way (the group's were missing)."""
    data, server = real_library
    assert main(["sync", "--vault", str(tmp_path / "api")]) == 0
    assert main(["sync", "--vault", str(tmp_path / "db"), "--zotero-data-dir", str(data)]) == 0
    through_api, from_db = _notes(tmp_path / "api"), _notes(tmp_path / "db")
    assert sorted(through_api) == sorted(from_db)
    assert any("A paper the group reads" in text for text in through_api.values())
    capsys.readouterr()

    server.edit("ANNGRP02", annotationComment="Ask Ada again")  # a group member's comment changes
    asked = len(server.requests)
    assert main(["sync", "--vault", str(tmp_path / "api")]) == 0
    # each library keeps its own version counter: the user's answers 304 and nothing more is read there
    assert [r for r in server.requests[asked:] if r.startswith("/api/users/0/items")] == [
        r for r in server.requests[asked:] if r.startswith("/api/users/0/items?format=versions")][:1]
    assert f"0 created, 1 updated, {len(from_db) - 1} unchanged" in capsys.readouterr().out
    assert any("Ask Ada again" in text for text in _notes(tmp_path / "api").values())


def test_annotations_of_a_group_paper_through_the_local_api(real_library, capsys):
    import json

    assert main(["annotations", "zotero:GROUPP01", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3 and {r["paper"] for r in rows} == {"zotero:g4242:GROUPP01"}
    assert main(["annotations", "zotero:NOPE2345"]) == 2
    assert capsys.readouterr().err == "studykit: error: no Zotero item with key NOPE2345 in your library or group 4242\n"
