"""`studykit sync` against a real zotero.sqlite (tests/zotero_fixture.py): notes per item, re-sync, selection."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from studykit.cli import main
from vault_export import frontmatter
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


# -- re-sync fast path: only items whose Zotero data or note changed are read and rendered -----------

@pytest.fixture
def reads(monkeypatch):
    """The attachment itemIDs whose annotations zotero.sqlite was asked for, per sync."""
    from studykit.sources import zotero_db

    calls: list[int] = []
    original = zotero_db._Reader._annotations

    def counting(self, attachment_ids):
        calls.extend(json.loads(attachment_ids))
        return original(self, attachment_ids)

    monkeypatch.setattr(zotero_db._Reader, "_annotations", counting)
    return calls


def sync(vault: Path, data: Path, *extra: str) -> int:
    return main(["sync", "--vault", str(vault), "--zotero-data-dir", str(data), *extra])


def synced(tmp_path, capsys, n_papers=3, annotations=3):
    data = build_library(tmp_path / "Zotero", n_papers=n_papers, annotations_per_paper=annotations)
    vault = tmp_path / "vault"
    assert sync(vault, data) == 0
    capsys.readouterr()
    return data, vault


def test_unchanged_resync_reads_no_annotation_and_writes_nothing(tmp_path, capsys, reads):
    data, vault = synced(tmp_path, capsys)
    assert (vault / ".studykit" / "notes.json").is_file()
    reads.clear()
    before = snapshot(vault)
    assert sync(vault, data) == 0
    out = capsys.readouterr().out
    assert reads == []
    assert snapshot(vault) == before
    assert "0 created, 0 updated, 3 unchanged, 0 conflicts" in out
    assert "(3 annotations)" in out  # the report still counts them, from the last sync


def test_edited_comment_is_read_for_its_paper_only(tmp_path, capsys, reads):
    data, vault = synced(tmp_path, capsys)
    reads.clear()
    with sqlite3.connect(data / "zotero.sqlite") as db:  # no dateModified bump: the content itself is stamped
        (item_id, parent) = db.execute("SELECT itemID, parentItemID FROM itemAnnotations ORDER BY itemID LIMIT 1").fetchone()
        db.execute("UPDATE itemAnnotations SET comment = 'a second thought' WHERE itemID = ?", (item_id,))
    assert sync(vault, data) == 0
    assert "0 created, 1 updated, 2 unchanged" in capsys.readouterr().out
    assert reads == [parent]
    assert sum("a second thought" in p.read_text(encoding="utf-8") for p in paper_notes(vault)) == 1


def test_deleted_annotation_and_new_tag_are_seen(tmp_path, capsys, reads):
    data, vault = synced(tmp_path, capsys)
    with sqlite3.connect(data / "zotero.sqlite") as db:
        (key,) = db.execute("SELECT i.key FROM itemAnnotations a JOIN items i USING (itemID) ORDER BY a.itemID LIMIT 1").fetchone()
        db.execute("DELETE FROM itemAnnotations WHERE itemID = (SELECT itemID FROM items WHERE key = ?)", (key,))
        (paper,) = db.execute("SELECT itemID FROM items JOIN itemTypes USING (itemTypeID) "
                              "WHERE typeName = 'journalArticle' ORDER BY itemID DESC LIMIT 1").fetchone()
        db.execute("INSERT INTO tags (name) VALUES ('to-reread')")
        db.execute("INSERT INTO itemTags VALUES (?, (SELECT tagID FROM tags WHERE name = 'to-reread'), 0)", (paper,))
    assert sync(vault, data) == 0
    assert "0 created, 2 updated, 1 unchanged" in capsys.readouterr().out
    texts = [p.read_text(encoding="utf-8") for p in paper_notes(vault)]
    assert not any(key.lower() in t.lower() for t in texts)
    assert sum("to-reread" in t for t in texts) == 1


def test_note_the_reader_edited_keeps_their_text_and_is_fast_again(tmp_path, capsys, reads):
    data, vault = synced(tmp_path, capsys)
    note = paper_notes(vault)[0]
    note.write_text(note.read_text(encoding="utf-8") + "\nMy own paragraph.\n", encoding="utf-8")
    reads.clear()
    assert sync(vault, data) == 0
    assert "0 created, 0 updated, 3 unchanged" in capsys.readouterr().out
    assert len(reads) == 1  # the edited note took the full path: read, rendered, merged
    assert note.read_text(encoding="utf-8").endswith("\nMy own paragraph.\n")
    reads.clear()
    before = snapshot(vault)
    assert sync(vault, data) == 0
    assert reads == [] and snapshot(vault) == before


def test_deleted_note_is_recreated_and_moved_note_is_followed(tmp_path, capsys, reads):
    data, vault = synced(tmp_path, capsys)
    gone, moved = paper_notes(vault)[:2]
    text = gone.read_text(encoding="utf-8")
    gone.unlink()
    (vault / "Elsewhere").mkdir()
    moved.rename(vault / "Elsewhere" / "renamed.md")
    assert sync(vault, data) == 0
    assert "1 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert gone.read_text(encoding="utf-8") == text
    assert len(paper_notes(vault)) == 2 and (vault / "Elsewhere" / "renamed.md").is_file()
    reads.clear()
    assert sync(vault, data) == 0
    assert reads == []


def test_copied_note_is_still_reported_as_a_conflict(tmp_path, capsys):
    data, vault = synced(tmp_path, capsys)
    note = paper_notes(vault)[0]
    (vault / "copy.md").write_bytes(note.read_bytes())
    for _ in range(2):  # the fast path must not hide it on the run after either
        assert sync(vault, data) == 0
        assert "1 conflicts" in capsys.readouterr().out


def test_changed_template_or_config_rerenders_every_note(tmp_path, capsys, reads):
    from importlib.resources import files

    data, vault = synced(tmp_path, capsys)
    templates = vault / ".studykit" / "templates"
    templates.mkdir(parents=True)
    shipped = files("studykit.templates").joinpath("paper_note.md.j2").read_text(encoding="utf-8")
    mine = shipped.replace('{% filter region("quick-read") %}\n', '{% filter region("quick-read") %}\nRendered by my template.\n')
    assert mine != shipped
    (templates / "paper_note.md.j2").write_text(mine, encoding="utf-8")
    reads.clear()
    assert sync(vault, data) == 0
    assert "0 created, 3 updated" in capsys.readouterr().out
    assert len(reads) == 3
    assert all("Rendered by my template." in p.read_text(encoding="utf-8") for p in paper_notes(vault))

    (vault / "studykit.toml").write_text('[taxonomy.names]\ncontribution = "Key claims"\n', encoding="utf-8")
    reads.clear()
    assert sync(vault, data) == 0
    capsys.readouterr()
    assert len(reads) == 3


def test_force_and_lost_state_take_the_full_path(tmp_path, capsys, reads):
    data, vault = synced(tmp_path, capsys)
    (vault / ".studykit" / "notes.json").unlink()
    reads.clear()
    notes_before = {p: snapshot(vault)[p] for p in paper_notes(vault)}
    assert sync(vault, data) == 0
    assert "0 created, 0 updated, 3 unchanged" in capsys.readouterr().out
    assert len(reads) == 3 and {p: snapshot(vault)[p] for p in paper_notes(vault)} == notes_before
    reads.clear()
    assert sync(vault, data, "--force") == 0
    capsys.readouterr()
    assert len(reads) == 3


def test_area_picture_deleted_from_the_vault_or_changed_in_zotero_is_written_again(tmp_path, capsys, reads):
    import pymupdf

    from zotero_fixture import generate_papers

    papers = generate_papers(2, 3)
    area = papers[0]["attachments"][0]["annotations"][0]
    area["annotationType"] = "image"

    def png(width: int) -> bytes:
        pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, 5), False)
        pixmap.clear_with(255)
        return pixmap.tobytes("png")

    data = build_library(tmp_path / "Zotero", papers, image_cache={area["key"]: png(7)})
    vault = tmp_path / "vault"
    assert sync(vault, data) == 0
    capsys.readouterr()
    [picture] = (vault / "attachments").glob("area-*.png")
    assert f"![[{picture.name}]]" in "".join(p.read_text(encoding="utf-8") for p in paper_notes(vault))

    picture.unlink()
    reads.clear()
    assert sync(vault, data) == 0
    capsys.readouterr()
    assert len(reads) == 1 and picture.read_bytes() == png(7)

    (data / "cache" / "library" / f"{area['key']}.png").write_bytes(png(9))  # Zotero re-rendered the area
    reads.clear()
    assert sync(vault, data) == 0
    capsys.readouterr()
    assert len(reads) == 1 and picture.read_bytes() == png(9)


def test_resync_after_the_reader_edited_a_generated_property_restores_it(tmp_path, capsys, reads):
    data, vault = synced(tmp_path, capsys)
    note = paper_notes(vault)[0]
    text = note.read_text(encoding="utf-8")
    title = frontmatter.read_key(frontmatter.split(text).yaml, "title")
    line = next(l for l in text.splitlines(keepends=True) if l.startswith("title:"))
    note.write_text(text.replace(line, "title: my own title\n", 1), encoding="utf-8")
    assert sync(vault, data) == 0
    assert "1 updated" in capsys.readouterr().out
    assert frontmatter.read_key(frontmatter.split(note.read_text(encoding="utf-8")).yaml, "title") == title


def test_force_with_unchanged_input_overwrites_an_edited_region(tmp_path, capsys, reads):
    data, vault = synced(tmp_path, capsys)
    note = paper_notes(vault)[0]
    legend = vault / "颜色编码 Colour Code.md"
    for path in (note, legend):
        text = path.read_text(encoding="utf-8")
        begin = text.index("%% studykit:begin")
        line_end = text.index("\n", begin) + 1
        path.write_text(text[:line_end] + "MY EDIT INSIDE A REGION\n" + text[line_end:], encoding="utf-8")
    assert sync(vault, data) == 0  # the input is unchanged: the edit is kept, nothing to report
    capsys.readouterr()
    assert "MY EDIT INSIDE A REGION" in note.read_text(encoding="utf-8")
    assert sync(vault, data, "--force") == 0
    assert "1 updated" in capsys.readouterr().out
    assert "MY EDIT INSIDE A REGION" not in note.read_text(encoding="utf-8")
    assert "MY EDIT INSIDE A REGION" not in legend.read_text(encoding="utf-8")
