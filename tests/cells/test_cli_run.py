"""`studykit run` as the reader types it: exit codes, --json, bad input, no torch in the command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FENCE = "```"


def studykit(*args: str, cwd: Path, python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *python_flags, "-m", "studykit", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    (tmp_path / "Note.md").write_text(
        f"# Note\n\n{FENCE}python run\nx = 20\nprint('x is', x)\n{FENCE}\n\n"
        f"{FENCE}python run\nprint(x + 1)\n{FENCE}\n")
    return tmp_path


def test_run_prints_a_summary_and_caches_the_second_time(vault):
    done = studykit("run", "Note.md", cwd=vault)
    assert done.returncode == 0, done.stderr
    assert "Note.md: 2 ran; note written" in done.stdout
    assert "```cell-output\nx is 20\n```" in (vault / "Note.md").read_text()
    again = studykit("run", "Note.md", cwd=vault)
    assert again.returncode == 0 and "cached" in again.stdout and "note unchanged" in again.stdout


def test_json_prints_one_object_per_cell(vault):
    done = studykit("run", "Note.md", "--json", "--force", cwd=vault)
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(o["index"], o["line"], o["status"], o["output"]) for o in objects] == [
        (1, 3, "ok", "x is 20"), (2, 8, "ok", "21")]
    assert all(set(o) == {"index", "line", "status", "duration", "output"} for o in objects)


def test_a_failing_cell_exits_1_and_names_the_cells_not_run(vault):
    (vault / "Note.md").write_text((vault / "Note.md").read_text().replace("x = 20", "x = undefined_name")
                                   + f"\n{FENCE}python run\nprint(3)\n{FENCE}\n")
    done = studykit("run", "Note.md", cwd=vault)
    assert done.returncode == 1
    assert "NameError: name 'undefined_name' is not defined" in done.stdout
    assert "not run: cell 2, 3" in done.stdout
    assert studykit("run", "Note.md", "--keep-going", cwd=vault).returncode == 1


def test_a_timeout_exits_1(vault):
    (vault / "Slow.md").write_text(f"{FENCE}python run\nimport time\ntime.sleep(20)\n{FENCE}\n")
    done = studykit("run", "Slow.md", "--timeout", "1", cwd=vault)
    assert done.returncode == 1 and "timeout" in done.stdout


def test_a_save_during_the_run_is_merged_and_exits_0(vault):
    (vault / "Edit.md").write_text(f"{FENCE}python run\nopen('Edit.md', 'a').write('typed\\n')\nprint(5)\n{FENCE}\n")
    done = studykit("run", "Edit.md", cwd=vault)
    assert done.returncode == 0 and "outputs merged into your new text" in done.stdout
    text = (vault / "Edit.md").read_text()
    assert "```cell-output\n5\n```" in text and text.endswith("typed\n")


def test_a_note_gone_during_the_run_exits_3_and_says_nothing_was_written(vault):
    (vault / "Gone.md").write_text(f"{FENCE}python run\nimport os\nos.rename('Gone.md', 'Moved.md')\n{FENCE}\n")
    done = studykit("run", "Gone.md", cwd=vault)
    assert done.returncode == 3 and "nothing written (cell 1); run again" in done.stdout
    assert not (vault / "Gone.md").exists() and "cell-output" not in (vault / "Moved.md").read_text()


def test_ctrl_c_ends_the_cells_and_a_daemon_they_started(vault):
    import os
    import signal
    import time

    (vault / "Daemon.md").write_text(
        f"{FENCE}python run\nimport subprocess, time\n"
        "p = subprocess.Popen(['sleep', '60'], start_new_session=True)\n"
        "open('daemon.pid', 'w').write(str(p.pid))\ntime.sleep(60)\n"
        f"{FENCE}\n")
    run = subprocess.Popen([sys.executable, "-m", "studykit", "run", "Daemon.md"], cwd=vault,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid_file = vault / "daemon.pid"
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    run.communicate(timeout=30)
    pid = int(pid_file.read_text())
    for _ in range(50):
        if not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        raise AssertionError("the daemon outlived Ctrl-C")


@pytest.mark.parametrize("args, message", [
    (["Missing.md"], "no such note"),
    (["paper.pdf"], "not a Markdown note"),
    (["Note.md", "--cell", "3"], "no cell 3 (the note has 2 cells)"),
    (["Note.md", "--timeout", "0"], "--timeout 0: must be a number of seconds more than 0"),
    (["Note.md", "--timeout", "-5"], "--timeout -5: must be a number of seconds more than 0"),
    (["Note.md", "--timeout", "inf"], "--timeout inf: must be a number of seconds more than 0"),
    (["Note.md", "--timeout", "nan"], "--timeout nan: must be a number of seconds more than 0"),
])
def test_bad_input_exits_2_with_one_line(vault, args, message):
    (vault / "paper.pdf").write_bytes(b"%PDF-1.7\n")
    done = studykit("run", *args, cwd=vault)
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_run_does_not_import_torch(vault):
    done = studykit("run", "Note.md", cwd=vault, python_flags=("-X", "importtime"))
    assert done.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "studykit.cells" in imported and not {"torch", "matplotlib", "rich"} & imported
