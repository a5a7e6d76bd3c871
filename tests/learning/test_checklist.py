"""Tasks read from Markdown, and `tick` changing exactly one line."""

import json
import re
import subprocess
import sys
from datetime import date

import pytest

from locations import EXERCISES
from studykit.checklist import DONE, mark_done, parse_tasks, scan_vault, tick, tick_checks
from studykit.errors import UserError

NOTE = """---
title: x
---
# Guide

## Stage 1
- [ ] draw the flow chart
- [x] read the paper ✅ 2026-11-01
- [X] capital X
- [/] reading model.py
- [-] dropped idea
- [>] forwarded (unknown symbols are todos, as in Tasks)
  - [ ] nested task
> - [ ] quoted task
1. [ ] numbered task

```markdown
- [ ] not a task: inside a code block
```

## Stage 2
- [ ] write PatchEmbed [check:: PatchEmbed]
- not a task
- [ ]no space is not a task
"""


def test_statuses_headings_and_fields():
    items = parse_tasks(NOTE, "g.md")
    assert [(it.title, it.status) for it in items] == [
        ("draw the flow chart", "todo"), ("read the paper", "done"), ("capital X", "done"),
        ("reading model.py", "in_progress"), ("dropped idea", "cancelled"),
        ("forwarded (unknown symbols are todos, as in Tasks)", "todo"), ("nested task", "todo"),
        ("quoted task", "todo"), ("numbered task", "todo"), ("write PatchEmbed", "todo"),
    ]
    assert {it.heading for it in items[:9]} == {"Stage 1"}
    assert items[0].headings == ["Guide", "Stage 1"]
    assert items[-1].heading == "Stage 2" and items[-1].fields == {"check": "PatchEmbed"}
    assert items[0].line == 6  # 0-based, front matter counted


def test_tick_changes_only_that_line_and_keeps_crlf(tmp_path):
    note = tmp_path / "g.md"
    data = NOTE.replace("\n", "\r\n").replace("draw the flow chart", "draw the flow chart ^flow").encode()
    note.write_bytes(data)
    item, changed = tick(note, "flow chart", date(2026, 11, 25))
    assert changed and item.status == DONE
    before, after = data.split(b"\r\n"), note.read_bytes().split(b"\r\n")
    assert after[6] == "- [x] draw the flow chart ✅ 2026-11-25 ^flow".encode()
    assert [a for i, a in enumerate(after) if i != 6] == [b for i, b in enumerate(before) if i != 6]


def test_tick_nested_quoted_and_numbered(tmp_path):
    note = tmp_path / "g.md"
    note.write_text(NOTE, encoding="utf-8")
    for text in ("nested task", "quoted task", "numbered task"):
        tick(note, text, date(2026, 11, 25))
    lines = note.read_text(encoding="utf-8").splitlines()
    assert "  - [x] nested task ✅ 2026-11-25" in lines
    assert "> - [x] quoted task ✅ 2026-11-25" in lines
    assert "1. [x] numbered task ✅ 2026-11-25" in lines


def test_tick_ambiguous_missing_and_done(tmp_path):
    note = tmp_path / "g.md"
    note.write_text(NOTE, encoding="utf-8")
    with pytest.raises(UserError, match=r"matches 3 tasks.*line 13: 'nested task'.*line 14: 'quoted task'.*line 15: 'numbered task'"):
        tick(note, "ed task")
    with pytest.raises(UserError, match="no task matches 'write MLP'; candidates: 'write PatchEmbed'"):
        tick(note, "write MLP")
    assert tick(note, "read the paper") [1] is False
    assert note.read_text(encoding="utf-8") == NOTE
    with pytest.raises(UserError, match="no such note"):
        tick(tmp_path / "nope.md", "x")


def test_tick_checks_across_the_vault(tmp_path):
    (tmp_path / "a.md").write_text(NOTE, encoding="utf-8")
    (tmp_path / ".obsidian").mkdir()
    (tmp_path / ".obsidian" / "x.md").write_text("- [ ] hidden [check:: PatchEmbed]\n", encoding="utf-8")
    ticked = tick_checks(tmp_path, ["patchembed"], date(2026, 11, 25))
    assert [it.title for it in ticked] == ["write PatchEmbed"]
    assert "- [x] write PatchEmbed [check:: PatchEmbed] ✅ 2026-11-25" in (tmp_path / "a.md").read_text(encoding="utf-8")
    assert [it.note for it in scan_vault(tmp_path)] == ["a.md"] * 10


def test_tick_cli(tmp_path):
    (tmp_path / "g.md").write_text(NOTE, encoding="utf-8")
    run = lambda *a: subprocess.run([sys.executable, "-m", "studykit", "tick", *map(str, a)],
                                    capture_output=True, text=True)
    r = run(tmp_path / "g", "dropped")  # .md may be left off; a cancelled task can be ticked
    assert r.returncode == 0 and "ticked" in r.stdout
    r = run(tmp_path / "g.md", "task")
    assert r.returncode == 2 and "matches" in r.stderr and r.stderr.count("\n") == 1


def test_tick_counts_lines_as_markdown_does(tmp_path):
    # Issue 10.5: U+2028, form feed and NEL made str.splitlines count more lines than Markdown does,
    # so tick changed the wrong task. A lone \r is a line break in Markdown (and in markdown-it).
    note = tmp_path / "g.md"
    text = ("---\ntitle: a\u2028b\n---\nintro\u2028still intro\x0cand\x85more\rnext line\n"
            "- [ ] first\u2028task\n- [ ] second\r\n- [ ] third\n")
    note.write_bytes(text.encode("utf-8"))
    item, changed = tick(note, "third", date(2026, 11, 25))
    assert changed and item.line == 7
    assert note.read_bytes().decode("utf-8") == text.replace("- [ ] third\n", "- [x] third ✅ 2026-11-25\n")
    tick(note, "second", date(2026, 11, 25))
    tick(note, "first\u2028task", date(2026, 11, 25))
    assert note.read_bytes().decode("utf-8") == text.replace("- [ ] third\n", "- [x] third ✅ 2026-11-25\n") \
        .replace("- [ ] second\r\n", "- [x] second ✅ 2026-11-25\r\n") \
        .replace("- [ ] first\u2028task\n", "- [x] first\u2028task ✅ 2026-11-25\n")


def test_tick_checks_counts_lines_as_markdown_does(tmp_path):
    text = "a\x85b\u2028c\x0cd\n- [ ] MLP [check:: MLP]\n- [ ] other\n"
    (tmp_path / "n.md").write_bytes(text.encode("utf-8"))
    [item] = tick_checks(tmp_path, ["MLP"], date(2026, 11, 25))
    assert item.line == 1 and item.status == DONE
    assert (tmp_path / "n.md").read_bytes().decode("utf-8") == text.replace(
        "- [ ] MLP [check:: MLP]", "- [x] MLP [check:: MLP] ✅ 2026-11-25")


def test_a_wrapped_task_is_found_by_its_whole_text(tmp_path):
    note = tmp_path / "g.md"
    text = "- [ ] implement the attention\n  module with [check:: Attention] a scale\n- [ ] other\n"
    note.write_text(text, encoding="utf-8")
    [first, _] = parse_tasks(text)
    assert first.text == "implement the attention module with [check:: Attention] a scale"
    assert first.title == "implement the attention module with a scale" and first.fields == {"check": "Attention"}
    item, changed = tick(note, "attention module with a scale", date(2026, 11, 25))
    assert changed and item.line == 0
    assert note.read_text(encoding="utf-8") == text.replace(
        "- [ ] implement the attention\n", "- [x] implement the attention ✅ 2026-11-25\n")


def test_re_ticking_a_task_that_kept_an_old_done_date(tmp_path):
    note = tmp_path / "g.md"
    note.write_text("- [ ] read it ✅ 2026-01-02 ^b1\n- [ ] then ✅2026-01-03\n", encoding="utf-8")
    tick(note, "read it", date(2026, 11, 25))
    tick(note, "then", date(2026, 11, 25))
    assert note.read_text(encoding="utf-8") == "- [x] read it ✅ 2026-11-25 ^b1\n- [x] then ✅ 2026-11-25\n"
    with pytest.raises(ValueError, match="not a task line: 'plain'"):
        mark_done("plain", date(2026, 11, 25))


NOT_UTF8 = "- [ ] PatchEmbed [check:: PatchEmbed] caf\xe9\n".encode("latin-1")


def test_a_note_that_is_not_utf8_is_never_rewritten(tmp_path):
    # Issue 16: tick_checks skipped decoding it but went on with the previous note's text, writing
    # that text into it; tick and the vault scan must not crash on it either.
    (tmp_path / "a.md").write_text("- [ ] PatchEmbed [check:: PatchEmbed]\n- [ ] mine\n", encoding="utf-8")
    (tmp_path / "b.md").write_bytes(NOT_UTF8)
    ticked = tick_checks(tmp_path, ["PatchEmbed"], date(2026, 11, 25))
    assert [it.note for it in ticked] == ["a.md"]
    assert (tmp_path / "b.md").read_bytes() == NOT_UTF8
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == \
        "- [x] PatchEmbed [check:: PatchEmbed] ✅ 2026-11-25\n- [ ] mine\n"
    assert [(it.note, it.title) for it in scan_vault(tmp_path)] == [
        ("a.md", "PatchEmbed"), ("a.md", "mine"), ("b.md", "PatchEmbed caf\ufffd")]
    with pytest.raises(UserError, match=r"b.md: not UTF-8 text \(invalid continuation byte at byte 41\)$"):
        tick(tmp_path / "b.md", "PatchEmbed")
    assert (tmp_path / "b.md").read_bytes() == NOT_UTF8
    with pytest.raises(UserError, match="not a folder"):
        scan_vault(tmp_path / "a.md")


def test_to_json_and_statuses():
    [item] = parse_tasks("# H\n## Sub\n- [/] go [check:: MLP] ✅ 2026-01-01\n", "n.md")
    assert item.to_json() == {"note": "n.md", "line": 3, "status": "in_progress", "symbol": "/", "text": "go",
                              "heading": "Sub", "fields": {"check": "MLP"}}


def test_check_tick_json_lists_the_ticked_tasks(tmp_path):
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "guide.md").write_text("# Exercises\n- [ ] PatchEmbed [check:: PatchEmbed]\n- [ ] MLP [check:: MLP]\n",
                                    encoding="utf-8")
    exercise = EXERCISES / "vit_einops_order.py"
    r = subprocess.run([sys.executable, "-m", "studykit", "check", str(exercise), "--tick", str(vault), "--json"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert [(t["note"], t["line"], t["status"], t["text"], t["fields"]) for t in data["ticked"]] == [
        ("guide.md", 2, "done", "PatchEmbed", {"check": "PatchEmbed"})]


def test_headings_nest_by_level_and_titles_drop_fields_and_dates():
    text = ("# A\n## B\n### C\n- [ ] deep\n## D\n- [?] odd (due:: soon)   spaced [check::  MLP ] ✅ 2026-01-01\n"
            "-\n- [ ]\n# E\n- [x] top\n")
    items = parse_tasks(text, "n.md")
    assert [(it.headings, it.heading) for it in items] == [(["A", "B", "C"], "C"), (["A", "D"], "D"), (["E"], "E")]
    odd = items[1]
    assert odd.status == "todo" and odd.symbol == "?" and odd.title == "odd spaced"
    assert odd.fields == {"due": "soon", "check": "MLP"} and odd.line == 5 and odd.note == "n.md"
    assert items[2].status == DONE and parse_tasks("- [ ] before any heading\n")[0].headings == []


def test_find_task_says_which_and_offers_candidates(tmp_path):
    note = tmp_path / "g.md"
    note.write_text("- [ ] write PatchEmbed\n- [ ] write PatchEmbed tests\n- [ ] draw the diagram\n", encoding="utf-8")
    item, _ = tick(note, "  write   patchembed ", date(2026, 11, 25))  # exact beats contains; spaces and case ignored
    assert item.line == 0
    with pytest.raises(UserError, match=r"'PatchEmbed' matches 2 tasks, say which: line 1: 'write PatchEmbed'; "
                                        r"line 2: 'write PatchEmbed tests'$"):
        tick(note, "PatchEmbed")
    with pytest.raises(UserError, match=r"no task matches 'draw diagrams'; candidates: 'draw the diagram'$"):
        tick(note, "draw diagrams")
    with pytest.raises(UserError, match=r"no task matches 'zzz'; candidates: 'write PatchEmbed'; "
                                        r"'write PatchEmbed tests'; 'draw the diagram'$"):
        tick(note, "zzz")
    empty = tmp_path / "e.md"
    empty.write_text("no tasks here\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"no task matches 'x'; candidates: the note has no tasks$"):
        tick(empty, "x")


def test_tick_names_the_note_relative_to_the_vault_and_leaves_done_tasks_alone(tmp_path):
    (tmp_path / "sub").mkdir()
    note = tmp_path / "sub" / "g.md"
    note.write_text("> 1) [ ] quoted numbered ^id-1\n- [x] done\n", encoding="utf-8")
    item, changed = tick(note, "quoted numbered", date(2026, 11, 25), vault=tmp_path)
    assert changed and item.note == "sub/g.md" and item.symbol == "x"
    assert note.read_text(encoding="utf-8") == "> 1) [x] quoted numbered ✅ 2026-11-25 ^id-1\n- [x] done\n"
    before = note.stat().st_mtime_ns
    item, changed = tick(note, "done")
    assert not changed and item.note == "g.md" and note.stat().st_mtime_ns == before


def test_tick_checks_skips_done_tasks_and_untouched_notes(tmp_path):
    (tmp_path / "a.md").write_text("- [x] MLP [check:: MLP]\n- [ ] Block (check:: block)\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("- [ ] other [check:: Attention]\n", encoding="utf-8")
    before = (tmp_path / "b.md").stat().st_mtime_ns
    ticked = tick_checks(tmp_path, ["mlp", "BLOCK"], date(2026, 11, 25))
    assert [(it.note, it.title, it.symbol) for it in ticked] == [("a.md", "Block", "x")]
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == \
        "- [x] MLP [check:: MLP]\n- [x] Block (check:: block) ✅ 2026-11-25\n"
    assert (tmp_path / "b.md").stat().st_mtime_ns == before


def test_find_task_prefers_an_exact_title_and_lists_at_most_five_close_or_ten_any(tmp_path):
    note = tmp_path / "g.md"
    note.write_text("- [ ] write MLP [check:: MLP]   \n- [ ] write MLP twice\n"
                    + "".join(f"- [ ] stage {i} block\n" for i in range(1, 12)), encoding="utf-8")
    item, _ = tick(note, "write MLP", date(2026, 11, 25))
    assert item.line == 0 and note.read_text(encoding="utf-8").startswith(
        "- [x] write MLP [check:: MLP] ✅ 2026-11-25\n- [ ] write MLP twice\n")
    with pytest.raises(UserError, match=rf"^{re.escape(str(note))}: no task matches 'stage block'; candidates: "
                                        r"'stage 9 block'; 'stage 8 block'; 'stage 7 block'; 'stage 6 block'; "
                                        r"'stage 5 block'$"):  # difflib's order: best score, then text
        tick(note, "stage block")
    with pytest.raises(UserError, match=r"; candidates: 'write MLP'; 'write MLP twice'; 'stage 1 block'; .*"
                                        r"'stage 8 block'$"):
        tick(note, "qqqqqqqq")


def test_tick_checks_goes_on_past_notes_without_hits_or_not_utf8(tmp_path):
    (tmp_path / "a.md").write_bytes(NOT_UTF8)
    (tmp_path / "b.md").write_text("- [ ] no check field\n", encoding="utf-8")
    (tmp_path / "c.md").write_text("- [ ] MLP [check:: MLP]\n", encoding="utf-8")
    assert [it.note for it in tick_checks(tmp_path, ["MLP", ""], date(2026, 11, 25))] == ["c.md"]
    assert (tmp_path / "b.md").read_text(encoding="utf-8") == "- [ ] no check field\n"
    assert parse_tasks("- [ ] x\n")[0].note == "" and parse_tasks("- [ ] x\n")[0].heading == ""
