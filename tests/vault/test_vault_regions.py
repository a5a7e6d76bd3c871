"""Managed regions: generated text is refreshed, the reader's text and edits are kept."""

import time

import pytest

from vault_export.regions import content_hash, merge, parse, seal, wrap


def note(*parts: str) -> str:
    return "\n\n".join(parts) + "\n"


def test_wrap_parses_back_and_records_the_content_hash():
    text = note("# T", wrap("quick-read", "line 1\nline 2"), "mine")
    [region] = parse(text).regions
    assert region.name == "quick-read"
    assert region.content(text) == "line 1\nline 2\n"
    assert region.stored_hash == content_hash("line 1\nline 2\n") and not region.edited(text)
    with pytest.raises(ValueError):
        wrap("two words", "x")


def test_line_endings_and_trailing_spaces_are_not_edits():
    text = note(wrap("a", "x\ny"))
    assert not parse(text.replace("\n", "\r\n")).regions[0].edited(text.replace("\n", "\r\n"))
    padded = text.replace("x\n", "x   \n")
    assert not parse(padded).regions[0].edited(padded)
    changed = text.replace("x\n", "x!\n")
    assert parse(changed).regions[0].edited(changed)


def test_unedited_regions_are_replaced_and_outside_text_kept_byte_for_byte():
    old = note("# T", wrap("a", "A1"), "reader's paragraph  \t", wrap("b", "B1"), "tail")
    new = note("# T changed", wrap("a", "A2"), "template text", wrap("b", "B2"), "other")
    result = merge(old, new)
    assert result.text == old.replace("A1", "A2").replace(content_hash("A1\n"), content_hash("A2\n")) \
        .replace("B1", "B2").replace(content_hash("B1\n"), content_hash("B2\n"))
    assert not result.conflicts


def test_crlf_note_gets_crlf_content():
    old = note("# T", wrap("a", "A1"), "mine").replace("\n", "\r\n")
    result = merge(old, note("# T", wrap("a", "A2\nmore")))
    assert "A2\r\nmore\r\n" in result.text and "\n" not in result.text.replace("\r\n", "")


def test_edited_region_is_kept_and_reported_only_when_an_update_is_missed():
    old = note(wrap("a", "A1"), wrap("b", "B1"))
    edited = old.replace("A1", "A1 with my words")
    same = merge(edited, old)
    assert same.text == edited and not same.conflicts  # nothing new to miss
    update = merge(edited, note(wrap("a", "A2"), wrap("b", "B2")))
    assert "A1 with my words" in update.text and "B2" in update.text
    assert [c.split(":")[0] for c in update.conflicts] == ["a"]
    forced = merge(edited, note(wrap("a", "A2"), wrap("b", "B2")), force=True)
    assert "A1 with my words" not in forced.text and not forced.conflicts
    assert not parse(forced.text).regions[0].edited(forced.text)


def test_edit_equal_to_the_new_content_just_adopts_it():
    old = note(wrap("a", "A1"))
    edited = old.replace("A1", "A2")
    result = merge(edited, note(wrap("a", "A2")))
    assert result.text == note(wrap("a", "A2")) and not result.conflicts


def test_regions_no_longer_rendered_leave_unless_edited():
    old = note("top", wrap("a", "A"), "mid", wrap("gone", "G"), "end")
    result = merge(old, note(wrap("a", "A")), known={"a", "gone"})
    assert result.text == "top\n\n" + wrap("a", "A") + "\n\nmid\n\n\nend\n"  # the reader's blank lines stay
    assert "G" not in result.text and result.removed == ["gone"] and result.known == ["a"]
    edited = old.replace("G\n", "G mine\n")
    kept = merge(edited, note(wrap("a", "A")), known={"a", "gone"})
    assert kept.text == edited and kept.removed == [] and kept.known == ["a", "gone"]
    assert kept.conflicts == ["gone: no longer generated, but you edited it; kept"]
    forced = merge(edited, note(wrap("a", "A")), known={"a", "gone"}, force=True)
    assert "G mine" not in forced.text and forced.removed == ["gone"] and not forced.conflicts


def test_new_region_goes_after_its_predecessor_before_its_successor_or_at_the_end():
    old = note("top", wrap("b", "B"), "mine")
    new = note(wrap("a", "A"), wrap("b", "B"), wrap("c", "C"), wrap("c2", "C2"))
    result = merge(old, new)
    assert result.added == ["a", "c", "c2"]
    assert result.text == "top\n\n" + wrap("a", "A") + "\n\n" + wrap("b", "B") + "\n\n" + wrap("c", "C") + "\n\n" \
        + wrap("c2", "C2") + "\n\nmine\n"
    lone = merge("just my text", note(wrap("x", "X")))
    assert lone.text == "just my text\n\n" + wrap("x", "X") + "\n"


def test_region_the_reader_deleted_stays_deleted():
    old = note(wrap("a", "A"), wrap("b", "B"))
    first = merge(old, old)
    deleted = old.replace(wrap("b", "B") + "\n", "")
    again = merge(deleted, note(wrap("a", "A"), wrap("b", "B2")), known=set(first.known))
    assert again.text == deleted and again.deleted_by_reader == ["b"]
    assert "b" in again.known  # still remembered, so it stays deleted next time too


def test_broken_markers_are_left_alone_and_reported():
    old = "%% studykit:begin a %%\nA\n\n" + wrap("b", "B") + "\n%% studykit:end zz 00000000 %%\n"
    result = merge(old, note(wrap("a", "A2"), wrap("b", "B2"), wrap("zz", "Z")))
    names = sorted(c.split(":")[0] for c in result.conflicts)
    assert names == ["a", "zz"]
    assert result.text.startswith("%% studykit:begin a %%\nA\n") and "B2" in result.text
    dup = note(wrap("a", "A"), wrap("a", "A"))
    assert merge(dup, note(wrap("a", "X"))).text == dup
    with pytest.raises(ValueError):
        merge("x", "%% studykit:begin a %%\nno end\n")


def test_seal_fixes_hand_written_end_markers():
    text = "%% studykit:begin a %%\nhello\n%% studykit:end a %%\nrest\n"
    sealed = seal(text)
    assert sealed == wrap("a", "hello") + "\nrest\n" and not parse(sealed).regions[0].edited(sealed)


def test_two_thousand_regions_merge_quickly(capsys):
    old = "".join(f"{wrap(f'ann-{i}', f'> quote {i}')}\nreader line {i}\n" for i in range(2000))
    new = "".join(f"{wrap(f'ann-{i}', f'> quote {i} v2')}\n" for i in range(2000))
    edited = old.replace("> quote 7\n", "> quote 7 mine\n")
    start = time.perf_counter()
    result = merge(edited, new)
    elapsed = time.perf_counter() - start
    assert len(result.conflicts) == 1 and result.text.count("v2") == 1999
    assert all(f"reader line {i}\n" in result.text for i in range(2000))
    with capsys.disabled():
        print(f"\n2,000-region merge: {elapsed * 1000:.1f} ms")


def test_a_region_studykit_never_wrote_here_is_the_readers_and_stays():
    # Issue 10.2: a region pasted from another studykit note, unedited, is not "no longer generated".
    pasted = wrap("ann-from-other-paper", "> a quote\n> " + "line\n" * 34)
    old = note("# T", wrap("a", "A"), "my notes", pasted, "end")
    for known in ({"a"}, None):
        result = merge(old, note("# T", wrap("a", "A2")), known=known, force=True)
        assert pasted in result.text and "A2" in result.text
        assert result.removed == [] and result.conflicts == [] and result.known == ["a"]
    edited = old.replace("> a quote", "> a quote, edited")
    assert merge(edited, note(wrap("a", "A")), known={"a"}).text == edited


FENCED = """my example of a studykit note:

```markdown
%% studykit:begin quick-read %%
quoted
%% studykit:end quick-read 00000000 %%
```

~~~~
%% studykit:begin b %%
~~~
%% studykit:end b %%
~~~~
"""


def test_markers_inside_fenced_code_are_not_regions():
    assert parse(FENCED).regions == [] and parse(FENCED).problems == {}
    old = FENCED + "\n" + wrap("quick-read", "Q") + "\n"
    result = merge(old, note(wrap("quick-read", "Q2"), wrap("b", "B")), known={"quick-read", "b"})
    assert result.text == FENCED + "\n" + wrap("quick-read", "Q2") + "\n"  # the quoted copy untouched
    assert result.deleted_by_reader == ["b"] and not result.conflicts
    # a backtick fence whose info string holds a backtick is no fence; indented 4 spaces neither
    not_fences = "``` a`b\n" + wrap("x", "X") + "\n\n    ```\n" + wrap("y", "Y") + "\n"
    assert [r.name for r in parse(not_fences).regions] == ["x", "y"]
    # a closing fence must be as long as the opening one and carry no info string
    still_open = "````\n```\n``` python\n" + wrap("x", "X") + "\n````\n" + wrap("y", "Y") + "\n"
    assert [r.name for r in parse(still_open).regions] == ["y"]
    # markers indented like code, or with text after them, are the reader's text
    assert parse("    " + wrap("x", "X").replace("\n", "\n    ")).regions == []
    assert [r.name for r in parse("   " + wrap("x", "X")).regions] == ["x"]
    assert parse(wrap("x", "X") + " trailing words").problems == {"x": "begin marker without an end marker"}


def test_problems_are_named_and_reported_and_never_inserted_twice():
    crossed = "%% studykit:begin a %%\nA\n%% studykit:end b 00000000 %%\n"
    assert parse(crossed).problems == {"a": "begin marker without an end marker", "b": "end marker without a begin marker"}
    result = merge(crossed, note(wrap("a", "A2"), wrap("b", "B2")), known=set())
    assert result.text == crossed and result.added == []
    assert result.conflicts == ["a: begin marker without an end marker; left as it is",
                                "b: end marker without a begin marker; left as it is"]
    assert result.known == ["a", "b"]
    unclosed = "top\n%% studykit:begin a %%\nA\n"
    result = merge(unclosed, note(wrap("a", "A2")))
    assert result.text == unclosed and result.conflicts == ["a: begin marker without an end marker; left as it is"]
    nested = "%% studykit:begin a %%\n" + wrap("b", "B") + "\n%% studykit:end a 00000000 %%\n"
    assert parse(nested).problems == {"a": "begin marker without an end marker"}
    assert [r.name for r in parse(nested).regions] == ["b"]
    dup = note(wrap("a", "A"), wrap("a", "A"))
    assert parse(dup).problems == {"a": "the note has this region more than once"}
    # a problem that is neither rendered nor studykit's is not remembered as studykit's
    assert merge(unclosed, note(wrap("z", "Z")), known=set()).known == ["z"]


def test_rendered_notes_must_be_well_formed():
    for bad, problem in [("%% studykit:begin a %%\nno end\n", "begin marker without an end marker"),
                         ("x\n%% studykit:end a %%\n", "end marker without a begin marker")]:
        with pytest.raises(ValueError, match=f"^rendered note: region 'a': {problem}$"):
            merge("x", bad)
        with pytest.raises(ValueError, match=f"^rendered note: region 'a': {problem}$"):
            seal(bad)
    with pytest.raises(ValueError, match=r"^region name 'two words': use letters"):
        wrap("two words", "x")
    assert wrap("a", "") == "%% studykit:begin a %%\n%% studykit:end a " + content_hash("") + " %%"
    assert wrap("a", "x\n") == wrap("a", "x")


def test_known_lists_every_region_studykit_wrote_including_new_ones():
    # Issue 16: a newly added region must be known, else deleting it brings it back.
    first = merge("mine\n", note(wrap("a", "A"), wrap("b", "B")), known=set())
    assert first.added == ["a", "b"] and first.known == ["a", "b"]
    deleted = first.text.replace(wrap("b", "B") + "\n", "")
    again = merge(deleted, note(wrap("a", "A"), wrap("b", "B")), known=set(first.known))
    assert again.text == deleted and again.deleted_by_reader == ["b"] and again.known == ["a", "b"]


def test_new_region_right_after_one_the_reader_deleted():
    # Issue 16: this crashed with a KeyError.
    old = note("top", wrap("a", "A"), "mine")
    new = note(wrap("a", "A"), wrap("b", "B"), wrap("c", "C"), wrap("d", "D"))
    result = merge(old, new, known={"a", "b"})
    assert result.deleted_by_reader == ["b"] and result.added == ["c", "d"]
    assert result.text == note("top", wrap("a", "A"), wrap("c", "C"), wrap("d", "D"), "mine")
    first = merge("mine\n", new, known={"a", "b"})
    assert first.added == ["c", "d"] and first.text == note("mine", wrap("c", "C"), wrap("d", "D"))
    before = merge(note("top", wrap("d", "D")), new, known={"a", "b", "d"})
    assert before.added == ["c"] and before.text == note("top", wrap("c", "C"), wrap("d", "D"))


def test_new_regions_in_crlf_and_mixed_notes_keep_their_line_breaks():
    # Issue 16: a region appended to a CRLF note lost its line breaks.
    crlf = merge("mine\r\nmore", note(wrap("a", "A\nB")))
    assert crlf.text == "mine\r\nmore\r\n\r\n" + wrap("a", "A\nB").replace("\n", "\r\n") + "\r\n"
    mixed = merge("mine\nmore\r\n" + wrap("x", "X").replace("\n", "\r\n") + "\r\n",
                  note(wrap("x", "X"), wrap("y", "Y\nZ")))
    assert mixed.text == "mine\nmore\r\n" + (wrap("x", "X") + "\n\n" + wrap("y", "Y\nZ") + "\n").replace("\n", "\r\n")
    lf = merge(note(wrap("x", "X")), note(wrap("w", "W"), wrap("x", "X")))
    assert lf.text == note(wrap("w", "W"), wrap("x", "X"))
    # CRLF content of a rendered region is never \r\r\n
    for existing in (note(wrap("a", "A")).replace("\n", "\r\n"), "mine\r\n", "mine\n", note(wrap("a", "A"))):
        text = merge(existing, note(wrap("a", "X\r\nY"))).text
        assert "\r\r" not in text and "X\r\nY" in text if "\r\n" in existing else "X\nY\n" in text


def test_note_ending_on_an_end_marker_without_a_newline():
    # Issue 16: the next region was glued on, making a corrupt "%%%" marker.
    old = wrap("a", "A")
    after = merge(old, note(wrap("a", "A2"), wrap("b", "B")))
    assert after.text == wrap("a", "A2") + "\n\n" + wrap("b", "B") + "\n" and "%%%" not in after.text
    assert merge(old, note(wrap("a", "A2"))).text == wrap("a", "A2")  # still no final newline
    crlf = merge(old.replace("\n", "\r\n"), note(wrap("a", "A"), wrap("b", "B")))
    assert crlf.text == (wrap("a", "A") + "\n\n" + wrap("b", "B") + "\n").replace("\n", "\r\n")
    before = merge(old, note(wrap("b", "B"), wrap("a", "A2")))
    assert before.text == wrap("b", "B") + "\n\n" + wrap("a", "A2")
    assert parse(old).regions[0].end_line_ending(old) == ""


def test_end_line_endings_and_seal_keep_crlf():
    text = "x\r\n" + wrap("a", "A").replace("\n", "\r\n") + "\r\ny\n"
    [r] = parse(text).regions
    assert r.newline == "\r\n" and r.end_line_ending(text) == "\r\n" and text[r.end:] == "y\n"
    assert text[r.start : r.marker_stop] == wrap("a", "A").replace("\n", "\r\n")
    hand = "%% studykit:begin a %%\r\nhello\r\n%% studykit:end a %%\r\n" + "%% studykit:begin b %%\n%% studykit:end b %%"
    assert seal(hand) == wrap("a", "hello").replace("\n", "\r\n") + "\r\n" + wrap("b", "")
    assert content_hash("a \r\n\r\nb\n\n") == content_hash("\na\n\nb") != content_hash("a\nb")
    assert content_hash("x") == "2d711642"  # sha256 of the UTF-8 text: pinned, as notes on disk carry it


def test_no_region_is_appended_inside_a_code_block_the_reader_left_open():
    old = note(wrap("a", "A"), "my example:\n\n```md\nunclosed")
    result = merge(old, note(wrap("z", "Z"), wrap("a", "A2"), wrap("b", "B")))
    assert result.text == old.replace("A\n", "A2\n").replace(content_hash("A\n"), content_hash("A2\n")) \
        .replace(wrap("a", "A2"), wrap("z", "Z") + "\n\n" + wrap("a", "A2") + "\n\n" + wrap("b", "B"))
    lone = merge("```\nall code\n", note(wrap("x", "X")))
    assert lone.text == "```\nall code\n" and lone.added == [] and lone.known == []
    assert lone.conflicts == ["x: not added: the note ends inside a code block that is never closed"]
    assert parse("```\n").ends_in_code and not parse("```\n```\n").ends_in_code


def test_content_hash_is_pinned_and_ignores_only_what_it_should():
    # notes on disk carry these hashes: sha256 of the UTF-8 text, first 8 hex digits
    assert [content_hash(c) for c in ("x", "a\nb", "Xx", "é")] == ["2d711642", "7e18f737", "33a64d73", "4a99557e"]
    assert content_hash("  x") != content_hash("x")  # indentation is content
    assert content_hash("a b") != content_hash("a\nb") != content_hash("ab")
    assert content_hash("X") != content_hash("")
    assert content_hash("a\r\nb \r\n") == content_hash("a\nb") == content_hash("\n\na\nb\n\n")


def test_parse_offsets_of_lf_crlf_and_a_marker_at_the_end():
    text = "x\n" + wrap("a", "A") + "\n%% studykit:begin b %%"
    [a] = parse(text).regions
    assert (a.start, a.content_start, a.content_end, a.marker_stop, a.end) == (2, 25, 27, 56, 57)
    assert a.newline == "\n" and a.content(text) == "A\n" and parse(text).problems == {"b": "begin marker without an end marker"}
    crlf = wrap("a", "A").replace("\n", "\r\n") + "  \r\n"
    [c] = parse(crlf).regions
    assert (c.content_start, c.content_end, c.marker_stop, c.end, c.newline) == (24, 27, 58, 60, "\r\n")
    assert c.end_line_ending(crlf) == "\r\n"
    two_bad_ends = "%% studykit:begin a %%\n%% studykit:end b %%\n%% studykit:end c %%\n"
    assert parse(two_bad_ends).problems == {"a": "begin marker without an end marker",
                                            "b": "end marker without a begin marker", "c": "end marker without a begin marker"}
    assert parse(wrap("a", "A") + "\n" + wrap("b", "B")).regions[1].start == len(wrap("a", "A")) + 1


def test_every_region_after_a_removed_held_back_or_deleted_one_is_still_handled():
    old = note(wrap("gone", "G"), wrap("a", "A1"), "mine")
    result = merge(old, note(wrap("a", "A2"), wrap("b", "B")), known={"gone", "a"})
    assert result.text == "\n" + note(wrap("a", "A2"), wrap("b", "B"), "mine") and result.removed == ["gone"]
    code = merge("```\n", note(wrap("x", "X"), wrap("y", "Y")))
    assert code.conflicts == ["x: not added: the note ends inside a code block that is never closed",
                              "y: not added: the note ends inside a code block that is never closed"]
    gone = merge(note(wrap("c", "C")), note(wrap("a", "A"), wrap("b", "B"), wrap("c", "C"), wrap("d", "D")),
                 known={"a", "b", "c"})
    assert gone.deleted_by_reader == ["a", "b"] and gone.added == ["d"]
    assert gone.text == note(wrap("c", "C"), wrap("d", "D"))
