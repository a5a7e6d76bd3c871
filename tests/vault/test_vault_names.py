"""File names for notes and attachments: safe on Windows and in Obsidian links, never outside the vault."""

import os
import re

import pytest

from vault_export import Vault
from vault_export.names import NOTE_STEM_MAX_BYTES, note_filename, safe_filename, surname

ADVERSARIAL = [
    "../../x", "/etc/passwd", "C:\\Windows\\system32", "..", ".", "...", "   ", "",
    "ViT: An Image is Worth 16x16 Words", 'a/b\\c:d*e?f"g<h>i|j#k^l[m]n', "[[link]] #tag ^block",
    "CON", "con.txt", "Nul", "COM1", "lpt9.md", "AUX ", "trailing dots...", "trailing space   ",
    "tab\tnew\nline\r\x00null\x1fctl", "\u202eexe.jpg", "é" * 300, "名" * 200, "🙂" * 100,
    ".hidden", "-dash", "x" * 1000, "a" + "\u0301" * 50,
]
FORBIDDEN = re.compile(r'[/\\:*?"<>|#^\[\]\x00-\x1f]')


def check_component(name: str, max_bytes: int) -> None:
    assert name and name == name.strip() and not name.endswith(".")
    assert not FORBIDDEN.search(name), name
    assert not name.startswith("."), "Obsidian hides dot files"
    assert len(name.encode("utf-8")) <= max_bytes
    assert name.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT9"}
    assert "\u202e" not in name


@pytest.mark.parametrize("title", ADVERSARIAL)
def test_adversarial_titles_give_a_safe_note_inside_the_vault(tmp_path, title):
    stem = note_filename(title=title)
    check_component(stem, NOTE_STEM_MAX_BYTES)
    vault = Vault(tmp_path)
    path = vault.new_note_path(stem)
    assert os.path.commonpath([path.resolve(), tmp_path.resolve()]) == str(tmp_path.resolve())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x", encoding="utf-8")  # the OS accepts the name
    assert path.read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("name", ADVERSARIAL + ["shape.png", "../../evil.png", "CON.png"])
def test_safe_filename_keeps_short_extensions(name):
    out = safe_filename(name)
    check_component(out, 200)
    if name.endswith(".png"):
        assert out.endswith(".png")


def test_citation_key_wins_over_author_and_title():
    assert note_filename(citekey="dosovitskiy2020image", first_author="X", year=2020, title="T") == "dosovitskiy2020image"


@pytest.mark.parametrize(("author", "expected"), [
    ("Dosovitskiy, Alexey", "Dosovitskiy"),
    ("Alexey Dosovitskiy", "Dosovitskiy"),
    ("Laurens van der Maaten", "van der Maaten"),
    ("García Márquez, Gabriel", "García Márquez"),
    ("Łukasz Kaiser", "Kaiser"),
    ("何恺明", "何恺明"),
])
def test_unicode_authors_with_commas(author, expected):
    assert surname(author) == expected
    assert note_filename(first_author=author, year=2020, title="An Image: Words") == f"{expected} 2020 - An Image - Words"


def test_empty_metadata_is_untitled_and_missing_parts_are_left_out():
    assert note_filename() == "Untitled"
    assert note_filename(citekey="  ", first_author="", year=None, title="") == "Untitled"
    assert note_filename(year=2020) == "2020"
    assert note_filename(title="Only a title") == "Only a title"
    assert note_filename(first_author="Vaswani, A.", year=2017) == "Vaswani 2017"


def test_long_titles_are_cut_at_a_word_within_the_byte_bound():
    title = "Attention " * 40
    stem = note_filename(first_author="Vaswani", year=2017, title=title)
    assert len(stem.encode()) <= NOTE_STEM_MAX_BYTES and stem.endswith("Attention")
    stem = note_filename(title="é" * 500)  # two bytes each: never split a character
    assert stem == "é" * (NOTE_STEM_MAX_BYTES // 2)
