"""Code cells: parsing as Markdown sees them, running in one real subprocess, writing back in place."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from studykit.cells import (CellExecutionError, CellStatus, CellTimeoutError, DeadKernelError, parse_cells, plan,
                            run_note)
from studykit.cells import process as cell_process
from studykit.errors import UserError

FENCE = "```"


def note(tmp_path: Path, text: str, name: str = "note.md") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def cell(source: str, info: str = "python run") -> str:
    return f"{FENCE}{info}\n{source}\n{FENCE}\n"


def statuses(report) -> list[str]:
    return [r.status for r in report.results]


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_cells_are_found_where_markdown_sees_fences():
    text = (
        "---\ntitle: x\nnote: '```python run'\n---\n"
        "> [!note] In a callout\n> ```python run\n> a = 1\n> ```\n\n"
        "- in a list\n  ~~~python {run}\n  b = 2\n  ~~~\n\n"
        "~~~run-python\nc = 3\n~~~\n\n"
        "```python\nnot_a_cell = 1\n```\n\n"
        "    ```python run\n    indented code, not a fence\n    ```\n\n"
        "````markdown\n```python run\ninside another fence\n```\n````\n"
    )
    cells = parse_cells(text, "note")
    assert [(c.index, c.line, c.source, c.prefix) for c in cells] == [
        (1, 6, "a = 1\n", "> "), (2, 11, "b = 2\n", "  "), (3, 15, "c = 3\n", "")]


def test_an_unclosed_cell_is_bad_input(tmp_path):
    path = note(tmp_path, "text\n```python run\nprint(1)\n")
    with pytest.raises(UserError, match="never closed"):
        run_note(path)


def test_state_is_shared_between_cells_and_cwd_is_the_notes_folder(tmp_path):
    (tmp_path / "helper.py").write_text("VALUE = 7\n")
    path = note(tmp_path, cell("import helper\nx = helper.VALUE") + "\ntext\n\n" + cell("print(x * 6)"))
    report = run_note(path)
    assert statuses(report) == ["ok", "ok"] and report.exit_code == 0 and report.written
    text = path.read_text()
    assert f"print(x * 6)\n{FENCE}\n{FENCE}cell-output\n42\n{FENCE}\n%% studykit:cell " in text
    assert text.count("```cell-output") == 1  # the first cell printed nothing, so it has no block


def test_first_error_stops_the_run_and_later_cells_keep_their_output(tmp_path):
    old = cell("print('new')") + f"{FENCE}output\nOLD OUTPUT\n{FENCE}\n"
    path = note(tmp_path, cell("print('before')\ndef f():\n    return 1 / 0\nf()") + "\n" + old)
    report = run_note(path)
    assert statuses(report) == ["error", "skipped"] and report.exit_code == 1
    error = report.results[0].output
    assert error.startswith("before\nTraceback (most recent call last):\n  Cell [1], line 4, in <module>")
    assert "Cell [1], line 3, in f" in error and error.endswith("ZeroDivisionError: division by zero")
    assert "kernel.py" not in error
    text = path.read_text()
    assert "OLD OUTPUT" in text and "%% studykit:cell" not in text  # a failed cell is never cached
    assert report.results[1].output == "OLD OUTPUT"


def test_keep_going_runs_the_cells_after_an_error(tmp_path):
    path = note(tmp_path, cell("x = 1\nraise ValueError('bad')") + cell("print(x + 1)"))
    report = run_note(path, keep_going=True)
    assert statuses(report) == ["error", "ok"] and report.exit_code == 1
    assert report.results[1].output == "2"


def test_timeout_kills_the_cell_and_the_processes_it_started(tmp_path):
    slow = cell("import subprocess, time\np = subprocess.Popen(['sleep', '30'])\n"
                "print(p.pid, flush=True)\ntime.sleep(30)")
    path = note(tmp_path, cell("print('first')") + slow + cell("print('never')"))
    began = time.monotonic()
    report = run_note(path, timeout=1)
    assert time.monotonic() - began < 6
    assert statuses(report) == ["ok", "timeout", "skipped"] and report.exit_code == 1
    pid = int(report.results[1].output.split("\n")[0])
    assert report.results[1].output.endswith("killed]")
    for _ in range(50):
        if not alive(pid):
            break
        time.sleep(0.1)
    assert not alive(pid)
    assert "timed out after 1 s" in path.read_text()


def test_background_children_do_not_outlive_a_clean_run(tmp_path):
    path = note(tmp_path, cell("import subprocess\nprint(subprocess.Popen(['sleep', '30']).pid)"))
    report = run_note(path, timeout=5)
    assert statuses(report) == ["ok"]
    time.sleep(0.2)
    assert not alive(int(report.results[0].output))


DAEMON = ("import os, time\n"
          "if os.fork() == 0:\n"
          "    os.setsid()  # leaves the kernel's session and process group\n"
          "    if os.fork() == 0:\n"
          "        open('daemon.pid', 'w').write(str(os.getpid()))\n"
          "        time.sleep(30)\n"
          "    os._exit(0)\n"
          "while not os.path.exists('daemon.pid') or not open('daemon.pid').read():\n"
          "    time.sleep(0.01)\n")


def gone(pid: int) -> bool:
    for _ in range(50):
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_timeout_kills_a_daemon_that_left_the_session_and_says_so(tmp_path):
    session = "import subprocess\nprint(subprocess.Popen(['sleep', '30'], start_new_session=True).pid, flush=True)\n"
    path = note(tmp_path, cell(session + DAEMON + "time.sleep(30)"))
    report = run_note(path, timeout=2)
    result = report.results[0]
    assert result.status == CellStatus.TIMEOUT and isinstance(result.error, CellTimeoutError)
    assert result.error.survivors == [] and result.error.killed >= 3  # the cell, sleep, the daemon
    assert result.output.endswith("the cell and the processes it started were killed]")
    assert gone(int(result.output.split("\n")[0])) and gone(int((tmp_path / "daemon.pid").read_text()))


def test_killing_a_timed_out_tree_leaves_the_caller_s_other_children_alone(tmp_path):
    import subprocess
    import sys

    other = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(7)"])
    path = note(tmp_path, cell("import time\ntime.sleep(30)"))
    assert statuses(run_note(path, timeout=1)) == ["timeout"]
    assert other.wait(timeout=30) == 7  # its exit status was not taken by the kill


def test_a_daemon_does_not_outlive_a_clean_run(tmp_path):
    path = note(tmp_path, cell(DAEMON + "print('started')"))
    report = run_note(path, timeout=10)
    assert statuses(report) == ["ok"]
    assert gone(int((tmp_path / "daemon.pid").read_text()))


def test_a_crash_is_reported_as_one_at_once_and_the_daemon_it_left_is_killed(tmp_path):
    path = note(tmp_path, cell(DAEMON + "os._exit(5)"))
    began = time.monotonic()
    report = run_note(path, timeout=30)
    assert time.monotonic() - began < 10  # not the timeout: the daemon keeps the output pipe open
    result = report.results[0]
    assert result.status == CellStatus.ERROR and isinstance(result.error, DeadKernelError)
    assert result.error.returncode == 5
    assert gone(int((tmp_path / "daemon.pid").read_text()))


def test_errors_are_typed_like_nbclient_s(tmp_path):
    path = note(tmp_path, cell("raise KeyError('k')") + cell("import os\nos._exit(3)") + cell("pass"))
    report = run_note(path, keep_going=True)
    first, second, third = report.results
    assert isinstance(first.error, CellExecutionError) and (first.error.ename, first.error.evalue) == ("KeyError", "'k'")
    assert first.output.endswith(first.error.traceback.rstrip())
    assert isinstance(second.error, DeadKernelError) and isinstance(second.error, RuntimeError)
    assert second.error.returncode == 3 and second.output.endswith(str(second.error))
    assert third.status == CellStatus.OK and third.error is None and third.status == "ok"


def test_exit_and_crash_are_reported_and_keep_going_continues_in_a_fresh_process(tmp_path):
    path = note(tmp_path, cell("x = 1\nimport sys\nsys.exit(4)") + cell("import os\nprint('bye', flush=True)\nos._exit(3)")
                + cell("import ctypes\nctypes.string_at(0)") + cell("print('alive', 'x' in globals())"))
    report = run_note(path, keep_going=True)
    assert statuses(report) == ["error", "error", "error", "ok"]
    assert report.results[0].output == "SystemExit: 4 (the cell called sys.exit)"
    assert report.results[1].output.startswith("bye\n[the cell ended the Python process (exit code 3)")
    assert "SIGSEGV" in report.results[2].output
    assert report.results[3].output == "alive False" and report.results[3].fresh_process
    report = run_note(path)  # without --keep-going the first failure stops the run
    assert statuses(report) == ["error", "skipped", "skipped", "skipped"]


def test_figure_goes_to_the_vault_attachment_folder_and_is_replaced_on_rerun(tmp_path):
    (tmp_path / ".obsidian").mkdir()
    (tmp_path / ".obsidian" / "app.json").write_text(json.dumps({"attachmentFolderPath": "assets"}))
    (tmp_path / "papers").mkdir()
    plot = cell("import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.figure()\nplt.plot([0, 1])")
    path = note(tmp_path / "papers", "# ViT\n\n" + plot, name="ViT paper.md")
    report = run_note(path)
    stem = "ViT paper-" + hashlib.sha256(b"papers/ViT paper.md").hexdigest()[:8]  # the note's path in the vault
    assert report.results[0].figures == [f"{stem}-cell1.png", f"{stem}-cell1-2.png"]
    for name in report.results[0].figures:
        assert (tmp_path / "assets" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.read_text().endswith(f" %%\n![[{stem}-cell1.png]]\n![[{stem}-cell1-2.png]]\n")
    assert not run_note(path, force=True).written  # the same figures: nothing rewritten
    path.write_text(path.read_text().replace("plt.figure()\nplt.plot([0, 1])", "pass"))
    run_note(path)
    assert path.read_text().count("![[") == 1
    assert sorted(p.name for p in (tmp_path / "assets").iterdir()) == [f"{stem}-cell1.png"]


def vault_with_assets(tmp_path: Path) -> Path:
    (tmp_path / ".obsidian").mkdir()
    (tmp_path / ".obsidian" / "app.json").write_text(json.dumps({"attachmentFolderPath": "assets"}))
    return tmp_path


def plot(values: list[int]) -> str:
    return cell(f"import matplotlib.pyplot as plt\nplt.plot({values})")


def test_same_named_notes_in_two_folders_keep_their_own_figures(tmp_path):
    vault = vault_with_assets(tmp_path)
    for folder in ("A", "B"):
        (vault / folder).mkdir()
    a = note(vault / "A", plot([1, 2]), name="Notes.md")
    b = note(vault / "B", plot([3, 1, 2]), name="Notes.md")
    [fig_a], [fig_b] = run_note(a).results[0].figures, run_note(b).results[0].figures
    assert fig_a != fig_b and fig_a.startswith("Notes-") and f"![[{fig_a}]]" in a.read_text()
    drawn_a = (vault / "assets" / fig_a).read_bytes()
    assert drawn_a != (vault / "assets" / fig_b).read_bytes()
    b.write_text(b.read_text().replace("plt.plot([3, 1, 2])", "pass"))
    run_note(b)
    assert (vault / "assets" / fig_a).read_bytes() == drawn_a and not (vault / "assets" / fig_b).exists()
    assert run_note(a, force=True).results[0].figures == [fig_a]  # stable: the same name next time


def test_a_figure_of_the_older_shared_naming_is_replaced_in_the_note_but_never_deleted(tmp_path):
    vault = vault_with_assets(tmp_path)
    (vault / "assets").mkdir()
    (vault / "assets" / "Notes-cell1.png").write_bytes(b"another note's figure")
    path = note(vault, plot([1, 2]) + "![[Notes-cell1.png]]\ntext\n", name="Notes.md")
    [figure] = run_note(path).results[0].figures
    text = path.read_text()
    assert "Notes-cell1.png" not in text and text.endswith(f"![[{figure}]]\ntext\n")
    assert (vault / "assets" / "Notes-cell1.png").read_bytes() == b"another note's figure"


def test_output_with_backticks_gets_a_longer_fence_and_reads_back(tmp_path):
    printed = "````\n```python\n``` inline"
    path = note(tmp_path, cell(f"print({printed!r})"))
    run_note(path)
    text = path.read_text()
    assert f"`````cell-output\n{printed}\n`````\n" in text
    assert parse_cells(text, "note")[0].output == printed


def test_outputs_inside_callouts_and_lists_keep_their_container(tmp_path):
    text = ("> [!example] Eq.1\n> ```python run\n> print('a\\n\\nb')\n> ```\n> after the cell\n\n"
            "1. step\n   ```python run\n   print('c')\n   ```\n2. next\n")
    path = note(tmp_path, text)
    run_note(path)
    written = path.read_text()
    assert "> ```\n> ```cell-output\n> a\n>\n> b\n> ```\n> %% studykit:cell " in written
    assert "   ```\n   ```cell-output\n   c\n   ```\n   %% studykit:cell " in written
    assert written.endswith("2. next\n") and "> after the cell\n" in written
    from markdown_it import MarkdownIt
    tokens = MarkdownIt("commonmark").parse(written)
    assert [t.type for t in tokens].count("blockquote_open") == 1
    assert [t.type for t in tokens].count("ordered_list_open") == 1
    assert not run_note(path, force=True).written


def test_non_run_fences_never_run_and_are_untouched(tmp_path):
    other = (f"{FENCE}python\nopen('ran', 'w')\n{FENCE}\n{FENCE}run-js\nx\n{FENCE}\n"
             f"{FENCE}output\nsomeone's output\n{FENCE}\n")
    path = note(tmp_path, other + cell("print(1)"))
    run_note(path)
    assert not (tmp_path / "ran").exists()
    assert path.read_text().startswith(other)


def test_rerun_with_same_results_leaves_the_note_byte_identical_and_unwritten(tmp_path):
    path = note(tmp_path, "# N\n\n" + cell("print('x' * 3)") + "tail\n" + cell("raise KeyError(1)"))
    assert run_note(path, keep_going=True).written
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    report = run_note(path, keep_going=True, force=True)
    assert statuses(report) == ["ok", "error"] and not report.written
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


def test_a_save_during_the_run_is_kept_and_the_outputs_merged_into_it(tmp_path):
    path = note(tmp_path, cell("with open('note.md', 'a') as f:\n    f.write('the reader typed this\\n')\nprint(1)"))
    report = run_note(path)
    assert report.merged and report.written and not report.changed and report.exit_code == 0
    text = path.read_text()
    assert text.endswith(" %%\nthe reader typed this\n") and "```cell-output\n1\n```" in text


def test_a_cell_whose_source_changed_during_the_run_gets_no_stale_output(tmp_path):
    edit = ("text = open('note.md').read()\n"
            "open('note.md', 'w').write(text.replace('print' + '(2)', 'print' + '(3)'))")
    path = note(tmp_path, cell(edit) + "between\n" + cell("print(2)"))
    report = run_note(path)
    assert report.lost == [2] and report.changed and report.exit_code == 3 and report.written
    text = path.read_text()
    assert "print(3)" in text and "```cell-output\n2" not in text  # its output came from print(2)
    assert text.count("%% studykit:cell") == 1  # the first cell's output went in


def test_crlf_line_endings_are_kept(tmp_path):
    path = note(tmp_path, "# N\r\n\r\n```python run\r\nprint('a')\r\nprint('b')\r\n```\r\nend\r\n")
    run_note(path)
    data = path.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    assert b"```\r\n```cell-output\r\na\r\nb\r\n```\r\n%% studykit:cell " in data and data.endswith(b"end\r\n")


def test_a_note_without_cells_runs_nothing(tmp_path):
    path = note(tmp_path, "# Just text\n\n```python\nprint(1)\n```\n")
    report = run_note(path)
    assert report.results == [] and not report.written and report.exit_code == 0


def test_cache_skips_unchanged_cells_and_reruns_from_the_top_after_a_change(tmp_path):
    counting = "with open('runs.log', 'a') as f:\n    f.write('{}')\n"
    path = note(tmp_path, cell(counting.format(1) + "x = 1") + cell(counting.format(2) + "print(x)")
                + cell(counting.format(3) + "print(x + 1)"))
    log = tmp_path / "runs.log"
    assert statuses(run_note(path)) == ["ok"] * 3 and log.read_text() == "123"
    assert statuses(run_note(path)) == ["cached"] * 3 and log.read_text() == "123"  # no cell ran
    path.write_text(path.read_text().replace("print(x + 1)", "print(x + 2)"))
    assert statuses(run_note(path)) == ["ok"] * 3 and log.read_text() == "123123"
    assert "```cell-output\n3\n```" in path.read_text()
    assert statuses(run_note(path, force=True)) == ["ok"] * 3 and log.read_text() == "123123123"


def test_cell_selection_runs_the_cells_above_and_rejects_unknown_numbers(tmp_path):
    path = note(tmp_path, cell("x = 5") + cell("print(x)") + cell("print('third')"))
    report = run_note(path, cells=[2])
    assert statuses(report) == ["ok", "ok", "skipped"] and report.results[1].output == "5"
    assert statuses(run_note(path, cells=[2])) == ["skipped", "cached", "skipped"]
    with pytest.raises(UserError, match="no cell 4"):
        run_note(path, cells=[4])


def test_plan_runs_from_the_top_when_any_wanted_cell_is_stale():
    cells = parse_cells(cell("a") + cell("b") + cell("c"), "n")
    assert plan(cells, None, force=False) == [1, 2, 3]
    for c in cells[:2]:
        c.recorded_hash = c.hash
    assert plan(cells, [2], force=False) == []
    assert plan(cells, None, force=False) == [1, 2, 3]
    assert plan(cells, [1], force=True) == [1]


def test_huge_output_is_cut_with_a_note(tmp_path):
    path = note(tmp_path, cell("print('y' * 1_500_000)"))
    output = run_note(path).results[0].output
    assert output.startswith("y" * 1000) and output.endswith("not shown (limit 1 MB)]")
    assert len(output) < cell_process.OUTPUT_LIMIT + 200


def test_output_is_cleaned_for_the_note():
    raw = b"\x1b[31mred\x1b[0m\r\nloading 10%\rloading 100%\ndone\n\n"
    assert cell_process.clean_output(raw) == "red\nloading 100%\ndone"


def test_input_gets_end_of_file_instead_of_hanging(tmp_path):
    path = note(tmp_path, cell("input('name? ')"))
    report = run_note(path, timeout=5)
    assert report.results[0].status == "error" and report.results[0].output.endswith("EOFError: EOF when reading a line")



EDITOR = """
import os, sys, time
note, stop = sys.argv[1], sys.argv[2]
saves = 0
while not os.path.exists(stop):
    # An editor that saves the reader's buffer every 50 ms: read, add a line, write beside and rename.
    text = open(note, encoding="utf-8").read()
    tmp = note + ".editor-tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text + "save %d\\n" % saves)
    os.replace(tmp, note)
    saves += 1
    time.sleep(0.05)
print(saves)
"""


@pytest.mark.slow
def test_an_editor_saving_every_50_ms_during_100_runs_loses_no_save(tmp_path):
    import subprocess
    import sys

    path = note(tmp_path, "# Notes\n\n" + cell("import time\nprint(time.time_ns())") + "\nreader's text\n")
    stop = tmp_path / "stop"
    editor = subprocess.Popen([sys.executable, "-c", EDITOR, str(path), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        reports = [run_note(path, force=True) for _ in range(100)]
    finally:
        stop.touch()
        saves = int(editor.communicate(timeout=30)[0])
    text = path.read_text()
    lost = [n for n in range(saves) if f"save {n}\n" not in text]
    merged = sum(r.merged for r in reports)
    print(f"\n100 runs, {saves} editor saves, {merged} runs merged into a newer save, "
          f"{sum(bool(r.lost) for r in reports)} reported outputs not written, {len(lost)} saves lost")
    assert lost == [] and saves >= 20 and merged >= 10  # the editor really saved during the runs
    assert all(r.written or r.lost for r in reports)  # each run's new output went in, or it said so
    assert text.count("```cell-output") == 1 and text.startswith("# Notes\n")
