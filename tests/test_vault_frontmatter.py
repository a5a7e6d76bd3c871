"""Obsidian properties: generated keys refreshed, the reader's keys and lines kept, tags merged."""

import datetime

import yaml

from vault_export import frontmatter as fm

RENDERED = fm.dump({
    "title": "ViT: An Image is Worth 16x16 Words",
    "authors": ["Dosovitskiy, Alexey", "Łukasz Kaiser"],
    "year": 2020,
    "added": datetime.date(2026, 11, 25),
    "concept": "[[Transformer]]",
    "tags": ["paper", "vit"],
    "doi": None,
    "studykit-id": "pdf:abc",
})


def test_dump_is_obsidian_friendly():
    assert RENDERED.splitlines() == [
        "title: 'ViT: An Image is Worth 16x16 Words'",
        "authors:",
        "  - Dosovitskiy, Alexey",
        "  - Łukasz Kaiser",
        "year: 2020",
        "added: 2026-11-25",
        'concept: "[[Transformer]]"',
        "tags:",
        "  - paper",
        "  - vit",
        "doi:",
        "studykit-id: pdf:abc",
    ]
    assert fm.load(RENDERED)["added"] == datetime.date(2026, 11, 25)
    assert fm.load(fm.dump({"t": "a\nb", "n": "123", "b": "yes"})) == {"t": "a\nb", "n": "123", "b": "yes"}


READER = """# my own comment
aliases: [ViT]   # inline comment
title: Old title
status: reading

authors:
- Someone Else
tags: [mine, Paper]
rating: 5
year: 2019
"""


def test_reader_lines_are_kept_byte_for_byte_and_generated_keys_refreshed():
    merged = fm.merge(READER, RENDERED)
    assert not merged.conflicts
    lines = merged.text.splitlines(keepends=True)
    for line in ["# my own comment\n", "aliases: [ViT]   # inline comment\n", "status: reading\n", "\n", "rating: 5\n"]:
        assert line in lines
    values = fm.load(merged.text)
    assert list(values) == ["aliases", "title", "status", "authors", "tags", "doi", "studykit-id", "rating", "year", "added", "concept"]
    assert values["title"] == "ViT: An Image is Worth 16x16 Words" and values["year"] == 2020
    assert values["tags"] == ["mine", "Paper", "vit"]  # reader's first; "paper" is "Paper"
    assert fm.merge(merged.text, RENDERED).text == merged.text  # a second merge changes nothing


def test_tags_already_present_keep_the_readers_formatting():
    reader = "tags: [paper, vit, extra]   # mine\ntitle: x\n"
    merged = fm.merge(reader, RENDERED)
    assert merged.text.startswith("tags: [paper, vit, extra]   # mine\n")


def test_crlf_front_matter_stays_crlf():
    merged = fm.merge(READER.replace("\n", "\r\n"), RENDERED)
    assert "\n" not in merged.text.replace("\r\n", "")
    assert "aliases: [ViT]   # inline comment\r\n" in merged.text


def test_invalid_yaml_is_never_rewritten():
    broken = "title: [unclosed\nmine: 1\n"
    merged = fm.merge(broken, RENDERED)
    assert merged.text == broken and "not valid YAML" in merged.conflicts[0]


def test_generated_key_dropped_when_no_longer_rendered():
    old = fm.dump({"title": "t", "doi": "10.1/x", "mine": 1})
    merged = fm.merge(old, fm.dump({"title": "t"}), generated_keys={"title", "doi"})
    assert fm.load(merged.text) == {"title": "t", "mine": 1}


def test_yaml_that_lines_cannot_split_falls_back_to_values():
    old = "base: &b {x: 1}\ncopy: *b\n? complex\n: key\ntitle: old\n"
    merged = fm.merge(old, RENDERED)
    values = fm.load(merged.text)
    assert values["copy"] == {"x": 1} and values["complex"] == "key" and values["title"].startswith("ViT")


def test_merge_values_and_merge_tags():
    out = fm.merge_values({"mine": 1, "title": "old", "tags": "a, b"}, {"title": "new", "tags": ["B", "c"], "year": 1})
    assert list(out.items()) == [("mine", 1), ("title", "new"), ("tags", ["a", "b", "c"]), ("year", 1)]
    assert fm.merge_tags(["#x"], ["x", "y"]) == ["#x", "y"]


def test_split_and_read_key():
    part = fm.split("---\r\nstudykit-id: \"pdf:1\"\r\n---\r\nbody")
    assert (part.open, part.close, part.body) == ("---\r\n", "---\r\n", "body")
    assert fm.read_key(part.yaml, "studykit-id") == "pdf:1"
    assert fm.split("no front matter").open == ""
    assert fm.split("---\nnot closed\n").open == ""
    assert yaml.safe_load(RENDERED)["concept"] == "[[Transformer]]"


def test_obsidian_reads_yes_and_no_as_text_and_so_do_we():
    merged = fm.merge("tags: [paper, no, on]\nanswer: yes\n", RENDERED)
    assert "tags:\n  - paper\n  - 'no'\n  - 'on'\n  - vit\n" in merged.text  # quoted for YAML 1.1 readers
    assert fm.load(merged.text)["answer"] == "yes" and fm.load("t: true")["t"] is True


def test_unicode_line_separators_inside_values_do_not_split_lines():
    reader = "note: a\x85b\u2028c\nstudykit-id: pdf:1\n"
    assert fm.merge(reader, fm.dump({"studykit-id": "pdf:1", "title": "t"})).text.startswith(reader)
