"""Vault: finding notes by studykit-id, new note paths, the attachment folder Obsidian uses."""

import json

import pytest

from vault_export import Vault


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_find_by_id_anywhere_but_in_dot_folders(tmp_path):
    moved = write(tmp_path / "Deep" / "er" / "renamed.md", '---\naliases: [x]\nstudykit-id: "zotero:1:ABCD"\n---\nbody')
    write(tmp_path / ".trash" / "old.md", "---\nstudykit-id: zotero:1:ABCD\n---\n")
    write(tmp_path / ".obsidian" / "x.md", "---\nstudykit-id: zotero:1:ABCD\n---\n")
    write(tmp_path / "plain.md", "no front matter, studykit-id: zotero:1:ABCD")
    write(tmp_path / "body-only.md", "---\ntitle: t\n---\nstudykit-id: zotero:1:ABCD\n")
    vault = Vault(tmp_path)
    assert vault.find_by_id("zotero:1:ABCD") == moved
    assert vault.find_by_id("zotero:1:NOPE") is None


def test_find_by_id_reads_long_front_matter(tmp_path):
    padding = "".join(f"k{i}: {'v' * 60}\n" for i in range(400))  # about 27 kB before the id
    note = write(tmp_path / "long.md", f"---\n{padding}studykit-id: pdf:long\n---\n")
    assert Vault(tmp_path).find_by_id("pdf:long") == note


def test_register_updates_the_index_without_rescanning(tmp_path):
    vault = Vault(tmp_path)
    assert vault.find_by_id("pdf:1") is None
    path = write(tmp_path / "Papers" / "n.md", "---\nstudykit-id: pdf:1\n---\n")
    vault.register("pdf:1", path)
    assert vault.find_by_id("pdf:1") == path


def test_new_note_path_is_unique_ignoring_case_and_inside(tmp_path):
    write(tmp_path / "Papers" / "vit.md", "x")
    vault = Vault(tmp_path)
    assert vault.new_note_path("ViT") == tmp_path / "Papers" / "ViT 2.md"
    assert vault.new_note_path("other.md") == tmp_path / "Papers" / "other.md"
    assert vault.new_note_path("x", folder="../../etc") == tmp_path / "etc" / "x.md"
    assert vault.new_note_path("x", folder="/abs/Sub") == tmp_path / "abs" / "Sub" / "x.md"
    assert vault.new_note_path("../../x", folder="") == tmp_path / "x.md"


@pytest.mark.parametrize(("setting", "expected"), [
    (None, "attachments"),
    ("/", "."),
    ("", "."),
    ("Assets/img", "Assets/img"),
    ("/Assets", "Assets"),
    ("./", "Moved"),
    ("./img", "Moved/img"),
    ("../../outside", "attachments"),
    ("./../../..", "attachments"),
])
def test_attachments_dir_follows_app_json(tmp_path, setting, expected):
    if setting is not None:
        write(tmp_path / ".obsidian" / "app.json", json.dumps({"attachmentFolderPath": setting}))
    vault = Vault(tmp_path)
    got = vault.attachments_dir(tmp_path / "Moved" / "note.md")
    assert got == (tmp_path / expected if expected != "." else tmp_path)


def test_attachments_dir_without_note_uses_the_papers_folder_and_survives_bad_json(tmp_path):
    write(tmp_path / ".obsidian" / "app.json", json.dumps({"attachmentFolderPath": "./img"}))
    assert Vault(tmp_path, papers_folder="Lit").attachments_dir() == tmp_path / "Lit" / "img"
    write(tmp_path / ".obsidian" / "app.json", "{not json")
    assert Vault(tmp_path).attachments_dir() == tmp_path / "attachments"


def test_link_is_vault_relative_posix(tmp_path):
    assert Vault(tmp_path).link(tmp_path / "attachments" / "a b.png") == "attachments/a b.png"
