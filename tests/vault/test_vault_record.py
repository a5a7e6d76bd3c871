"""vault_export.record: the per-vault file of what studykit last wrote into each note.

The file is a cache: whatever is wrong with it costs a merge, never a reader's byte, and two
writers of one vault (a sync and a guide run, say) keep each other's records."""

import hashlib
import json
import locale
import os
import sys

import pytest

from vault_export import Vault, write_note
from vault_export.record import FORMAT, LEGACY_FOLDER, RECORDS_FILE, NoteRecord, Records, digest


def on_disk(root) -> dict:
    return json.loads((root / RECORDS_FILE).read_text(encoding="utf-8"))


def test_digest_is_32_hex_digits_and_text_is_taken_as_utf8():
    assert digest("Ünïcode ✅") == hashlib.sha256("Ünïcode ✅".encode("utf-8")).hexdigest()[:32]
    assert digest("Ünïcode ✅") == digest("Ünïcode ✅".encode("utf-8"))
    assert len(digest(b"")) == 32 and digest(b"a") != digest(b"b")


def test_a_record_from_a_newer_or_older_studykit_keeps_what_it_knows():
    record = NoteRecord.from_json({"path": "Papers/a.md", "note": "n", "regions": ["summary"], "added-later": 1})
    assert (record.path, record.note, record.regions, record.extra) == ("Papers/a.md", "n", ["summary"], {})
    # regions that are not a list mean "not known" (a reader-deleted region may come back once), not a crash
    assert NoteRecord.from_json({"regions": "summary"}).regions is None
    assert NoteRecord.from_json({}).regions is None and NoteRecord.from_json({"regions": []}).regions == []


def test_records_round_trip_through_the_file(tmp_path):
    records = Records(tmp_path)
    assert not records.dirty
    records.put("pdf:1", NoteRecord(path="Papers/ä.md", source="s1", rendered="r", note="n", regions=["quick-read"],
                                    attachments=["Attachments/a.png"], extra={"title": "ViT ✅"}))
    assert records.dirty
    records.save({"Papers/ä.md": [10, 20]})
    assert not records.dirty
    raw = (tmp_path / RECORDS_FILE).read_text(encoding="utf-8")
    assert raw.endswith("}\n") and "ViT ✅" in raw and "\n" not in raw[:-1]  # one line, readable UTF-8
    assert raw == json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":")) + "\n"  # and compact
    loaded = Records.load(tmp_path)
    assert loaded.notes == records.notes and loaded.files == {"Papers/ä.md": [10, 20]} and not loaded.dirty
    assert loaded.get("pdf:1").extra == {"title": "ViT ✅"}
    assert loaded.get("pdf:2") == NoteRecord()  # an id never written: an empty record


def test_a_broken_or_foreign_records_file_means_no_records(tmp_path):
    path = tmp_path / RECORDS_FILE
    path.parent.mkdir()
    good = {"format": FORMAT, "notes": {"pdf:1": {"path": "a.md", "note": "n"}}, "files": {"a.md": [1, 2]}}
    path.write_text(json.dumps(good))
    assert Records.load(tmp_path).get("pdf:1").note == "n"
    for broken in ["", "{", "[]", "null", json.dumps({**good, "format": FORMAT - 1}), json.dumps({**good, "format": None}),
                   json.dumps({"format": FORMAT, "notes": {}}), json.dumps({"format": FORMAT, "files": {}}),
                   json.dumps({**good, "notes": []}), json.dumps({**good, "notes": {"pdf:1": "x"}}),
                   json.dumps({**good, "files": 3}), json.dumps({**good, "files": {"a.md": 3}}),
                   b"\xff\xfe not json"]:
        path.write_bytes(broken if isinstance(broken, bytes) else broken.encode())
        records = Records.load(tmp_path)
        assert (records.notes, records.files, records.loaded) == ({}, {}, None), broken
        assert records.get("pdf:1") == NoteRecord()
    assert Records.load(tmp_path / "no such vault").notes == {}


def test_an_unchanged_records_file_is_not_rewritten(tmp_path):
    records = Records(tmp_path)
    records.put("pdf:1", NoteRecord(path="a.md"))
    records.save({"a.md": [1, 2]})
    before = os.stat(tmp_path / RECORDS_FILE).st_mtime_ns
    os.utime(tmp_path / RECORDS_FILE, ns=(before - 10**9, before - 10**9))
    stamp = os.stat(tmp_path / RECORDS_FILE).st_mtime_ns
    loaded = Records.load(tmp_path)
    loaded.save()
    loaded.save({"a.md": [1, 2]})  # the same listing
    assert os.stat(tmp_path / RECORDS_FILE).st_mtime_ns == stamp
    loaded.save({"a.md": [1, 3]})  # a note changed since: the listing is news
    assert on_disk(tmp_path)["files"] == {"a.md": [1, 3]}
    assert on_disk(tmp_path)["notes"] == {"pdf:1": vars(NoteRecord(path="a.md"))}


def test_two_writers_of_one_vault_keep_each_others_records(tmp_path):
    first, second = Records.load(tmp_path), Records.load(tmp_path)
    first.put("pdf:1", NoteRecord(path="one.md", note="1"))
    first.save({"one.md": [1, 1]})
    second.put("pdf:2", NoteRecord(path="two.md", note="2"))
    second.save()  # no listing: the one on disk stays
    data = on_disk(tmp_path)
    assert sorted(data["notes"]) == ["pdf:1", "pdf:2"] and data["files"] == {"one.md": [1, 1]}
    assert sorted(second.notes) == ["pdf:1", "pdf:2"] and not second.dirty
    # the first writer goes on: what it saves now keeps the second's record and its own older one
    first.put("pdf:3", NoteRecord(path="three.md"))
    first.save()
    assert sorted(on_disk(tmp_path)["notes"]) == ["pdf:1", "pdf:2", "pdf:3"]
    # a writer's own change wins over the file's older version of the same record
    second.put("pdf:1", NoteRecord(path="moved.md", note="1"))
    second.save()
    assert on_disk(tmp_path)["notes"]["pdf:1"]["path"] == "moved.md"
    assert sorted(on_disk(tmp_path)["notes"]) == ["pdf:1", "pdf:2", "pdf:3"]


def test_saving_twice_without_news_writes_once(tmp_path):
    records = Records(tmp_path)
    records.put("pdf:1", NoteRecord(path="a.md"))
    records.save()
    assert records.loaded == (os.stat(tmp_path / RECORDS_FILE).st_size, os.stat(tmp_path / RECORDS_FILE).st_mtime_ns)
    (tmp_path / RECORDS_FILE).unlink()
    records.save()  # nothing put since: the file is not written again
    assert not (tmp_path / RECORDS_FILE).exists()


def test_the_records_file_is_sorted_so_that_it_diffs_well(tmp_path):
    records = Records(tmp_path)
    for note_id in ["zotero:B", "pdf:2", "pdf:1"]:
        records.put(note_id, NoteRecord(path=f"{note_id}.md"))
    records.save({"z.md": [1, 1], "a.md": [2, 2]})
    data = on_disk(tmp_path)
    assert list(data["notes"]) == ["pdf:1", "pdf:2", "zotero:B"] and list(data["files"]) == ["a.md", "z.md"]
    assert data["format"] == FORMAT


def test_a_vault_synced_by_an_older_studykit_keeps_its_deleted_regions_deleted(tmp_path):
    note_id = "pdf:1"
    legacy = tmp_path / LEGACY_FOLDER / f"{hashlib.sha256(note_id.encode()).hexdigest()[:24]}.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps({"regions": ["summary", "quick-read"]}), encoding="utf-8")
    records = Records.load(tmp_path)
    assert records.get(note_id).regions == ["summary", "quick-read"] and records.get("pdf:2").regions is None
    for broken in ["{", "[]", json.dumps({"regions": "summary"}), json.dumps({})]:
        legacy.write_text(broken, encoding="utf-8")
        assert records.get(note_id) == NoteRecord(), broken
    legacy.write_text(json.dumps({"regions": [1, "a"]}), encoding="utf-8")
    assert records.get(note_id).regions == ["1", "a"]
    legacy.write_bytes(b"\xff{")
    assert records.get(note_id) == NoteRecord()
    # a record in notes.json wins over the legacy file
    records.put(note_id, NoteRecord(regions=["eq-1"]))
    assert records.get(note_id).regions == ["eq-1"]


def test_a_region_the_reader_deleted_stays_deleted_after_an_upgrade(tmp_path):
    """The legacy record, end to end: the region it names as written is not put back."""
    from vault_export import wrap

    text = "---\ntitle: A\n---\n" + wrap("summary", "generated") + "\n"
    path = write_note(Vault(tmp_path), "pdf:1", text, "A").path
    (tmp_path / RECORDS_FILE).unlink()
    legacy = tmp_path / LEGACY_FOLDER / f"{hashlib.sha256(b'pdf:1').hexdigest()[:24]}.json"
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_text(json.dumps({"regions": ["summary"]}), encoding="utf-8")
    path.write_text("---\ntitle: A\nstudykit-id: pdf:1\n---\nMy own text.\n", encoding="utf-8")
    assert write_note(Vault(tmp_path), "pdf:1", text, "A").status == "unchanged"
    assert "generated" not in path.read_text(encoding="utf-8")


def test_a_legacy_record_is_read_as_utf8_whatever_the_locale(tmp_path):
    """Windows and C-locale machines do not default to UTF-8; the region names in the file are UTF-8.
    In-process (mutmut's mutants are not seen by a subprocess): the C locale for the length of the read."""
    note_id = "pdf:1"
    legacy = tmp_path / LEGACY_FOLDER / f"{hashlib.sha256(note_id.encode()).hexdigest()[:24]}.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps({"regions": ["zusammenfassung-ü"]}, ensure_ascii=False), encoding="utf-8")
    if sys.flags.utf8_mode:
        pytest.skip("Python's UTF-8 mode is on: every locale reads UTF-8 here")
    before = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C")
        assert locale.getpreferredencoding(False).lower() not in ("utf-8", "utf8")  # else the test means nothing
        regions = Records.load(tmp_path).get(note_id).regions
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
    assert regions == ["zusammenfassung-ü"]
