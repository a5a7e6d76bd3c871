"""Obsidian properties: generated keys refreshed, the reader's keys and lines kept, tags merged."""

import datetime

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from vault_export import frontmatter as fm
from vault_export.simple_yaml import dump_simple

PROPS = {
    "title": "ViT: An Image is Worth 16x16 Words",
    "authors": ["Dosovitskiy, Alexey", "Łukasz Kaiser"],
    "year": 2020,
    "added": datetime.date(2026, 11, 25),
    "concept": "[[Transformer]]",
    "tags": ["paper", "vit"],
    "doi": None,
    "studykit-id": "pdf:abc",
}
RENDERED = fm.dump(PROPS)  # the merge tests' input; test_dump_is_obsidian_friendly checks dump itself


def test_dump_is_obsidian_friendly():
    assert fm.dump(PROPS).splitlines() == [
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


_ASCII = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)
_PIECES = st.sampled_from(["yes", "No", "null", "~", "---", "...", "://", "[[", "#", " #", ": ", ":", "? ", "- ",
                           "1.5", "0x1F", "2024-01-02", "12:30", "<<", "=", "'", '"', "\\", "é", "\t", "\n", " "])
_TEXT = st.one_of(_ASCII, st.lists(st.one_of(_ASCII, _PIECES), max_size=5).map("".join))
_VALUE = st.one_of(_TEXT, st.integers(-10**6, 10**6), st.dates(), st.lists(_TEXT, max_size=3), st.booleans(), st.none())


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_TEXT, _VALUE, min_size=1, max_size=5))
def test_dump_writes_what_pyyaml_writes(mapping):
    """dump writes simple properties itself (simple_yaml) and must give PyYAML's bytes exactly."""
    pyyaml = yaml.dump(mapping, Dumper=fm._Dumper, sort_keys=False, allow_unicode=True, width=10**9,
                       default_flow_style=False)
    assert fm.dump(mapping) == pyyaml


def test_a_paper_notes_properties_take_the_direct_path():
    props = {"title": "Paper 12: a study of things", "authors": ["Ada Author12"], "year": 2012, "doi": "10.1234/t.12",
             "zotero": "zotero://select/library/items/ABCD1234", "tags": ["paper"], "studykit-id": "zotero:u:ABCD1234",
             "created": datetime.date(2026, 11, 26)}
    assert dump_simple(props) == fm.dump(props) == yaml.dump(props, Dumper=fm._Dumper, sort_keys=False,
                                                             allow_unicode=True, width=10**9, default_flow_style=False)
    shared = ["a"]
    assert dump_simple({"x": shared, "y": shared}) is None  # PyYAML writes an anchor for a list given twice


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


def test_front_matter_that_lines_cannot_merge_exactly_is_left_byte_for_byte():
    # Issue 10.4: these were re-dumped, deleting the reader's comments and the first of two values.
    cases = {
        "# mine\nbase: &b {x: 1}\ncopy: *b\n? complex\n: key\ntitle: old\n":
            "properties studykit cannot tell apart line by line (a complex or anchored key)",
        "# my comment\nmine: first\ntitle: old\nmine: second\n": "property 'mine' is given twice",
        "title: old\nauthors:\n  # the first author is wrong\n  - Someone\n": "property 'authors' holds a comment",
        "title: old   # keep this\n": "property 'title' holds a comment",
        "tags: [mine]  # my tags\n": "property 'tags' holds a comment",
        "tags:\n# the first\n  - mine\n": "property 'tags' holds a comment",
    }
    for old, why in cases.items():
        merged = fm.merge(old, RENDERED)
        assert merged.text == old, old
        assert merged.conflicts == [f"{why}{'' if why.endswith(')') or 'twice' in why else ' that refreshing it would drop'}"
                                    "; properties left as they are, generated ones not refreshed"], old


def test_comments_that_no_rewrite_touches_are_fine():
    # a '#' inside a value, a comment on a key that does not change, comments after a generated key
    old = ("title: 'ViT: An Image is Worth 16x16 Words'\nrating: 5  # of 5\n"
           "doi: 10.1/x\n# my note on the DOI\n\n# another\nsource: 'a # b'\nmine: |\n  # not a comment\n")
    merged = fm.merge(old, RENDERED)
    assert not merged.conflicts
    assert merged.text.startswith("title: 'ViT: An Image is Worth 16x16 Words'\nauthors:\n")
    assert merged.text.endswith("rating: 5  # of 5\ndoi:\n# my note on the DOI\n\n# another\nstudykit-id: pdf:abc\n"
                                "source: 'a # b'\nmine: |\n  # not a comment\n")


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


def test_odd_front_matter_the_reader_may_leave():
    # Issue 16: each of these crashed, dropped lines or lost tags.
    empty = fm.merge("", RENDERED)
    assert empty.text == RENDERED and not empty.conflicts
    blank_tags = fm.merge("tags:\ntitle: old\n", RENDERED)
    assert blank_tags.text.startswith("tags:\n  - paper\n  - vit\n") and not blank_tags.conflicts
    assert "\ntitle: 'ViT: An Image is Worth 16x16 Words'\n" in blank_tags.text
    no_tags = fm.merge("mine: 1\n", RENDERED)
    assert fm.load(no_tags.text)["tags"] == ["paper", "vit"] and no_tags.text.endswith("\nstudykit-id: pdf:abc\nmine: 1\n")
    after = fm.merge("title: old\n# my comment on the title\n\nmine: 1\n", RENDERED)
    assert after.text.startswith("title: 'ViT: An Image is Worth 16x16 Words'\n# my comment on the title\n\nauthors:\n")
    listed = fm.merge("- a\n- b\n", RENDERED)
    assert listed.text == "- a\n- b\n"
    assert listed.conflicts == ["front matter is not a list of properties (key: value); properties left as they are"]
    scalar = fm.merge("just text\n", RENDERED)
    assert scalar.text == "just text\n" and scalar.conflicts
    broken = fm.merge("title: [unclosed\nmine: 1\n", RENDERED)
    assert broken.conflicts == ["front matter is not valid YAML (line 3); properties left as they are"]


def test_the_readers_tags_stay_when_the_rendering_has_none():
    old = "tags: [mine, paper]\ntitle: old\n"
    merged = fm.merge(old, fm.dump({"title": "new"}))
    assert merged.text == "tags: [mine, paper]\ntitle: new\n"
    assert "\ntags:\n  - paper\n  - extra\n  - vit\n" in fm.merge("tags: paper, extra\n", RENDERED).text
    assert "\ntags: [paper, vit]\ndoi:\n" in fm.merge("tags: [paper, vit]\n", RENDERED).text


def test_quoted_keys_dates_and_tuples():
    old = '"my key": v\n\'title\': old\n"year": 1999\nadded: 2025-01-02\n'
    merged = fm.merge(old, RENDERED)
    assert not merged.conflicts
    values = fm.load(merged.text)
    assert values["my key"] == "v" and values["title"].startswith("ViT") and values["year"] == 2020
    assert merged.text.startswith('"my key": v\ntitle: \'ViT')
    assert values["added"] == datetime.date(2026, 11, 25)  # a generated date is refreshed
    assert fm.dump({"pair": (1, 2), "when": datetime.datetime(2026, 1, 2, 3, 4, 5, 678)}) == \
        "pair:\n  - 1\n  - 2\nwhen: 2026-01-02T03:04:05\n"
    assert fm.dump({"s": {"b", }}) == "s:\n  - b\n" and fm.dump({}) == ""


def test_generated_keys_given_explicitly():
    old = "title: t\ndoi: 10.1/x\nmine: 1\nyear: 1999\n"
    rendered = fm.dump({"title": "t2", "year": 2020, "extra": "e"})
    merged = fm.merge(old, rendered, generated_keys={"title", "doi", "extra"})
    assert merged.text == "title: t2\nmine: 1\nyear: 1999\nextra: e\n"  # year is the reader's here


def test_read_key_and_split_edge_cases():
    assert fm.read_key("a: 1\nstudykit-id:   pdf:9  \r\n", "studykit-id") == "pdf:9"
    assert fm.read_key("studykit-id:\n", "studykit-id") is None
    assert fm.read_key("studykit-id: [x\n", "studykit-id") is None
    assert fm.read_key("xstudykit-id: 1\n", "studykit-id") is None
    part = fm.split("---\n---\nbody")
    assert (part.open, part.yaml, part.close, part.body) == ("---\n", "", "---\n", "body")
    part = fm.split("---  \na: 1\n...\nbody")
    assert (part.yaml, part.close, part.body) == ("a: 1\n", "...\n", "body")
    assert fm.split("---\na: 1\n---").join() == "---\na: 1\n---" and fm.split("---\na: 1\n---").body == ""
    assert fm.split("x\n---\na: 1\n---\n").open == ""
    assert fm.split_lines("a\nb\u2028c\r\nd") == ["a\n", "b\u2028c\r\n", "d"]


def test_dump_quotes_what_obsidian_would_misread():
    assert fm.dump({"a": "[[Note]]", "b": "https://x.org", "c": "#tag", "d": " edge", "e": "edge ", "f": "plain",
                    "g": "two\nlines", "h": None, "i": True}) == (
        'a: "[[Note]]"\nb: "https://x.org"\nc: "#tag"\nd: " edge"\ne: "edge "\nf: plain\ng: |-\n  two\n  lines\nh:\ni: true\n')
    assert fm.dump({"long": "w " * 200}).count("\n") == 1  # never folded


def test_tags_in_every_shape_the_reader_writes_them():
    assert fm.merge_tags(None, ["a"]) == ["a"]
    assert fm.merge_tags("x, y  z", None) == ["x", "y", "z"]
    assert fm.merge_tags(["x", None, "", 3], ("#X", "w", "W")) == ["x", "3", "w"]
    assert fm.merge_tags(7, ["7", "8"]) == ["7", "8"]
    assert fm.merge_values({"tags": None}, {"tags": ["a"]}) == {"tags": ["a"]}
    assert fm.merge_values({"mine": 1}, {"tags": ["a"], "title": "t"}, generated_keys=set()) == {"tags": ["a"], "mine": 1}


def test_keys_the_line_splitter_must_recognise():
    old = '"quoted: key": 1\n\'single\': 2\n-dash: 3\nplain key: 4\nempty:\n# tail\n'
    merged = fm.merge(old, fm.dump({"title": "t"}))
    assert merged.text == "title: t\n" + old and not merged.conflicts
    assert fm.merge("- a\n", fm.dump({"title": "t"})).conflicts  # a list item is no key
    refreshed = fm.merge('"title": old\n', fm.dump({"title": "new"}))
    assert refreshed.text == "title: new\n"
    assert fm.merge("  # indented prelude\ntitle: t\n", fm.dump({"title": "t2"})).text == "  # indented prelude\ntitle: t2\n"


def test_line_endings_of_old_and_new_properties():
    crlf = fm.dump({"title": "t", "year": 1}).replace("\n", "\r\n")
    assert fm.merge("", crlf).text == crlf  # an empty block takes the rendering's line endings
    assert fm.merge("title: old\r\n", fm.dump({"title": "t"})).text == "title: t\r\n"
    assert fm.merge("title: old\n", crlf).text == "title: t\nyear: 1\n"
    assert fm.merge("mine: 1", fm.dump({"title": "t"})).text == "title: t\nmine: 1\n"  # no final newline
    assert fm.merge("mine: 1\ntitle: old\n", "title: t").text == "mine: 1\ntitle: t\n"
    assert fm.merge("title: t\r\n\r\nmine: 1\r\n", fm.dump({"title": "t2"})).text == "title: t2\r\n\r\nmine: 1\r\n"
    assert fm.newline_of("\r\nx") == "\r\n" and fm.newline_of("a\r\nb\n") == "\r\n"
    assert fm.newline_of("\nx\r") == "\n" and fm.newline_of("x") == "\n"
    assert fm.as_newline("a\r\nb\nc", "\r\n") == "a\r\nb\r\nc" and fm.as_newline("a\r\nb\n", "\n") == "a\nb\n"


def test_generated_list_followed_by_the_readers_comment_lines():
    old = "authors:\n  - Old One\n  - Old Two\n# who wrote it\n\nmine: 1\n"
    merged = fm.merge(old, fm.dump({"authors": ["New"]}))
    assert merged.text == "authors:\n  - New\n# who wrote it\n\nmine: 1\n" and not merged.conflicts


def test_the_readers_tags_stay_even_when_tags_are_a_generated_key():
    old = "tags: [mine]\ntitle: old\n"
    assert fm.merge(old, fm.dump({"title": "t"}), generated_keys={"title", "tags"}).text == "tags: [mine]\ntitle: t\n"
    assert fm.merge_values({"tags": ["mine"], "title": "old"}, {"title": "t"}, generated_keys={"title", "tags"}) == \
        {"tags": ["mine"], "title": "t"}
    assert fm.merge_tags([], ["#y", "y", "Xa", "a"]) == ["#y", "Xa", "a"]
    assert fm.merge_tags(["Xylo"], ["ylo"]) == ["Xylo", "ylo"]


def test_keys_on_several_lines_and_flow_mappings():
    old = "aliases: [ViT,\n  vision transformer]\n\"quoted\": [a,\n  b]\ntitle: old\n"
    merged = fm.merge(old, fm.dump({"title": "t"}))
    assert merged.text == old.replace("title: old", "title: t") and not merged.conflicts
    escaped = "\"say \\\"hi\\\"\": 1\n'it''s': 2\ntitle: old\n"
    assert [k for k, _ in fm._chunks(escaped).entries] == ['say "hi"', "it's", "title"]
    assert fm.merge(escaped, fm.dump({"title": "t"})).text == escaped.replace("old", "t")
    for odd in ("{}\n", "[]\n", "? [a, b]\n: c\n"):
        assert fm.merge(odd, RENDERED).text == odd and fm.merge(odd, RENDERED).conflicts


def test_an_anchor_in_a_generated_key_that_the_reader_refers_to():
    old = "doi: &d 10.1/x\nmine: *d\n"
    merged = fm.merge(old, fm.dump({"doi": "10.2/y"}))
    assert merged.text == old
    assert merged.conflicts == ["properties studykit cannot merge without rewriting your lines; properties left as "
                                "they are, generated ones not refreshed"]


def test_yaml_errors_without_a_position():
    try:
        fm.load("a: \x07\n")
    except fm.FrontMatterError as exc:
        assert str(exc) == "front matter is not valid YAML"
    else:
        raise AssertionError("a control character is not YAML")
    assert fm._has_comment("a: [unclosed # c") and not fm._has_comment("a: 'x # y'") and fm._has_comment("# c\n")


def test_the_lines_before_the_first_key_and_yaml_the_scanner_rejects():
    old = "# first comment\n\n# second\ntitle: old\n"
    assert fm.merge(old, fm.dump({"title": "t"})).text == "# first comment\n\n# second\ntitle: t\n"
    assert fm._has_comment("a: @x # c")  # the scanner stops at '@': a '#' it cannot place counts as a comment


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_ASCII, _PIECES, st.sampled_from(["zotero:u:", "pdf:", "a:", "NULL", "True", "y"])),
                min_size=1, max_size=4).map("".join))
def test_read_key_reads_a_value_as_yaml_does(value):
    """read_key takes a plain word (a studykit-id) as it stands and must agree with the YAML loader."""
    line = value.strip()
    try:
        expected = yaml.load(line, Loader=fm._Loader) if line and "\n" not in line else None
    except yaml.YAMLError:
        expected = None
    if "\n" not in value and "\r" not in value:
        assert repr(fm.read_key(f"title: x\nstudykit-id: {value}\n", "studykit-id")) == repr(expected)
