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
    result = merge(old, note(wrap("a", "A")))
    assert result.text == "top\n\n" + wrap("a", "A") + "\n\nmid\n\n\nend\n"  # the reader's blank lines stay
    assert "G" not in result.text and result.removed == ["gone"]
    edited = old.replace("G\n", "G mine\n")
    kept = merge(edited, note(wrap("a", "A")))
    assert "G mine" in kept.text and kept.conflicts


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
