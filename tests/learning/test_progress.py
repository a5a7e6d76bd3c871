"""Counting tasks across a vault, the daily history, and the Dashboard note."""

import json
import subprocess
import sys
from datetime import date

from studykit.checklist import parse_tasks
from studykit.progress import HISTORY, read_history, record, summarize, to_json, write_dashboard

NOTE_A = "# A\n## S1\n- [x] one\n- [ ] two\n- [-] dropped\n## S2\n- [/] three\n"
NOTE_B = "- [x] top level\n"


def vault(tmp_path):
    (tmp_path / "a.md").write_text(NOTE_A, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text(NOTE_B, encoding="utf-8")
    return tmp_path


def test_counts_per_note_and_heading():
    items = parse_tasks(NOTE_A, "a.md") + parse_tasks(NOTE_B, "b.md")
    totals, notes = summarize(items)
    tree = to_json(totals, notes)
    assert tree["totals"] == {"todo": 1, "in_progress": 1, "done": 2, "cancelled": 1, "total": 5, "percent": 50.0}
    s1 = tree["notes"]["a.md"]["headings"]["S1"]
    assert (s1["done"], s1["total"], s1["percent"]) == (1, 3, 50.0)  # cancelled left out of the percentage
    assert list(tree["notes"]["a.md"]["headings"]) == ["S1", "S2"]
    assert tree["notes"]["b.md"]["headings"]["(no heading)"]["percent"] == 100.0


def test_history_keeps_one_line_per_day(tmp_path):
    totals, _ = summarize(parse_tasks(NOTE_A, "a.md"))
    record(tmp_path, totals, date(2026, 11, 24))
    record(tmp_path, totals, date(2026, 11, 25))
    totals.done += 1
    (tmp_path / HISTORY).open("a", encoding="utf-8").write("{torn line\n")
    history = record(tmp_path, totals, date(2026, 11, 25))  # the latest run of the day wins
    assert [(e["date"], e["done"]) for e in history] == [("2026-11-24", 1), ("2026-11-25", 2)]
    assert read_history(tmp_path) == history
    assert len((tmp_path / HISTORY).read_text(encoding="utf-8").splitlines()) == 2


def test_dashboard_is_written_and_the_readers_text_kept(tmp_path):
    v = vault(tmp_path)
    first = write_dashboard(v, today=date(2026, 11, 25))
    assert first.status == "created" and first.path.name == "Dashboard.md"
    text = first.path.read_text(encoding="utf-8")
    assert "[[a]]" in text and "[[sub/b]]" in text and "| S1 |" in text
    png = v / "attachments" / "studykit-progress.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "![[attachments/studykit-progress.png]]" in text
    first.path.write_text(text + "\nmy own remarks\n- [ ] a task on the dashboard\n", encoding="utf-8")
    (v / "a.md").write_text(NOTE_A.replace("- [ ] two", "- [x] two"), encoding="utf-8")
    second = write_dashboard(v, today=date(2026, 11, 26))
    text = second.path.read_text(encoding="utf-8")
    assert second.status == "updated" and "my own remarks" in text
    assert "3/4 完成" in text  # the dashboard's own task is not counted
    assert [e["done"] for e in read_history(v)] == [2, 3]


def test_progress_cli_json_without_torch(tmp_path):
    v = vault(tmp_path)
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "studykit", "progress", str(v), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["totals"]["total"] == 5
    assert " torch" not in r.stderr  # -X importtime lists every import on stderr
    assert len(read_history(v)) == 1
    bad = subprocess.run([sys.executable, "-m", "studykit", "progress", str(tmp_path / "nope")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "not a folder" in bad.stderr


BAD_LINES = [b'{"date": "yesterday", "todo": 1, "in_progress": 0, "done": 1, "cancelled": 0, "total": 2, "percent": 50}',
             b'{"date": "2026-11-20", "todo": "x", "in_progress": 0, "done": 1, "cancelled": 0, "total": 2, "percent": 50}',
             b'{"date": "2026-11-21"}', b'[1, 2]', b'"2026-11-22"', b'\xff\xfe{"date": "2026-11-23"}',
             b'{"date": "2026-11-23", "todo": 0, "in_progress": 0, "done": 1, "cancelled": 0, "total": 1, "percent": null}',
             b'{"date": "2026-1-5", "todo": 0, "in_progress": 0, "done": 1, "cancelled": 0, "total": 1, "percent": 100}']


def test_a_bad_line_in_the_history_does_not_break_progress_write(tmp_path, capsys):
    from studykit.cli import main

    v = vault(tmp_path)
    good = b'{"date": "2026-11-19", "todo": 1, "in_progress": 0, "done": 1, "cancelled": 0, "total": 2, "percent": 50.0}'
    (v / HISTORY).parent.mkdir(parents=True)
    (v / HISTORY).write_bytes(b"\n".join([good, *BAD_LINES]) + b"\n")
    assert main(["progress", str(v), "--write"]) == 0
    out, err = capsys.readouterr()
    assert "dashboard created" in out
    assert err.count("not a day of progress; left out") == len(BAD_LINES) and "Traceback" not in err
    assert [e["date"] for e in read_history(v)] == ["2026-11-19", date.today().isoformat()]
    assert main(["progress", str(v), "--write"]) == 0  # and the next run is clean
    assert "left out" not in capsys.readouterr().err


def test_progress_write_indexes_the_vault_once(tmp_path, capsys, monkeypatch):
    from studykit.cli import main
    from vault_export.vault import Vault

    v = vault(tmp_path)
    walks = []
    real = Vault._build_index
    monkeypatch.setattr(Vault, "_build_index", lambda self: walks.append(1) or real(self))
    assert main(["progress", str(v), "--write"]) == 0
    assert main(["progress", str(v), "--write"]) == 0
    assert "dashboard unchanged" in capsys.readouterr().out
    assert len(walks) == 2  # one per run
