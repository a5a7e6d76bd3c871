"""`studykit sync` against a real zotero.sqlite (tests/zotero_fixture.py): notes per item, re-sync, selection."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml

from studykit.cli import main
from zotero_fixture import build_library


def snapshot(vault: Path) -> dict:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in vault.rglob("*") if p.is_file()}


def paper_notes(vault: Path) -> list[Path]:
    return sorted((vault / "Papers").glob("*.md"))


def test_sync_writes_a_note_per_item_and_resync_writes_nothing(tmp_path, capsys):
    data = build_library(tmp_path / "Zotero", n_papers=6, annotations_per_paper=5)
    vault = tmp_path / "vault"
    assert main(["sync", "--vault", str(vault), "--zotero-data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "6 created, 0 updated, 0 unchanged, 0 conflicts" in out
    notes = paper_notes(vault)
    assert len(notes) == 6
    props = yaml.safe_load(notes[0].read_text(encoding="utf-8").split("---\n")[1])
    assert props["studykit-id"].startswith("zotero:") and props["zotero"].startswith("zotero://select/")
    text = notes[0].read_text(encoding="utf-8")
    assert "zotero://open-pdf/" in text and text.count("^ann-") == 5

    before = snapshot(vault)
    assert main(["sync", "--vault", str(vault), "--zotero-data-dir", str(data)]) == 0
    assert "0 created, 0 updated, 6 unchanged" in capsys.readouterr().out
    assert snapshot(vault) == before


def test_changed_annotation_updates_only_its_note(tmp_path, capsys):
    data = build_library(tmp_path / "Zotero", n_papers=3, annotations_per_paper=4)
    vault = tmp_path / "vault"
    main(["sync", "--vault", str(vault), "--zotero-data-dir", str(data)])
    capsys.readouterr()
    with sqlite3.connect(data / "zotero.sqlite") as db:
        (item_id,) = db.execute("SELECT itemID FROM itemAnnotations ORDER BY itemID LIMIT 1").fetchone()
        db.execute("UPDATE itemAnnotations SET comment = 'a new thought' WHERE itemID = ?", (item_id,))
    assert main(["sync", "--vault", str(vault), "--zotero-data-dir", str(data)]) == 0
    assert "0 created, 1 updated, 2 unchanged" in capsys.readouterr().out
    assert sum("a new thought" in p.read_text(encoding="utf-8") for p in paper_notes(vault)) == 1


def test_sync_selects_items_by_key(tmp_path, capsys):
    data = build_library(tmp_path / "Zotero", n_papers=4, annotations_per_paper=2)
    with sqlite3.connect(data / "zotero.sqlite") as db:
        (key,) = db.execute("SELECT key FROM items JOIN itemTypes USING (itemTypeID) "
                            "WHERE typeName = 'journalArticle' ORDER BY itemID LIMIT 1").fetchone()
    vault = tmp_path / "vault"
    assert main(["sync", "--vault", str(vault), "--zotero-data-dir", str(data), "--item", key, "--json"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
    assert len(paper_notes(vault)) == 1


def test_missing_database_is_one_line_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "studykit", "sync", "--vault", str(tmp_path / "v"),
                           "--zotero-data-dir", str(tmp_path / "nothing")], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
