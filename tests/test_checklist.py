"""Tasks read from Markdown, and `tick` changing exactly one line."""

import subprocess
import sys
from datetime import date

import pytest

from studykit.checklist import DONE, parse_tasks, scan_vault, tick, tick_checks
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
