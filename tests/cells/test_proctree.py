"""studykit.proctree, the one owner of finding a run's processes in /proc and stopping then killing
them: used by the exercise checker (studykit.processes) and, loaded by path, by the cell kernel."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studykit import proctree
from studykit.cells import run_note

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="the process tree is found through /proc (Linux)")

# Forks a child that forks a grandchild, which leaves the session and sleeps: once the child
# exits, the grandchild is an orphan in its own session, the case a process group kill misses.
DAEMON = """
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open(sys.argv[1], "w") as f:
            f.write(str(os.getpid()))
        time.sleep(60)
    os._exit(0)
os.wait()
"""


def _subreaper_flag() -> int:
    flag = ctypes.c_int(-1)
    assert ctypes.CDLL(None, use_errno=True).prctl(37, ctypes.byref(flag), 0, 0, 0) == 0  # PR_GET_CHILD_SUBREAPER
    return flag.value


def _wait_for(path: Path) -> int:
    deadline = time.monotonic() + 10
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, "the daemon never wrote its pid"
        time.sleep(0.01)
    return int(path.read_text())


def test_an_orphaned_daemon_comes_back_to_a_subreaper_and_is_killed_and_reaped(tmp_path):
    pidfile = tmp_path / "daemon.pid"
    me = os.getpid()
    with proctree.subreaper():
        subprocess.run([sys.executable, "-c", DAEMON, str(pidfile)], timeout=30, check=True)
        daemon = _wait_for(pidfile)
        assert proctree.table()[daemon] == (me, True)  # re-parented to us, not to init
        killed, left = proctree.kill_tree(lambda: proctree.tree({me}) - {me})
    assert daemon in killed and left == []
    assert daemon not in proctree.table()  # killed and reaped: no zombie left behind
    assert _subreaper_flag() == 0  # the setting we had before is back


def test_first_is_killed_but_left_for_its_popen_to_wait_for(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        killed, left = proctree.kill_tree(lambda: set(), first=(proc.pid,))
        assert killed == {proc.pid} and left == []
        assert proc.wait(timeout=10) == -9  # a status taken by kill_tree would read 0 here
    finally:
        proc.kill()
        proc.wait()


def test_tree_reads_a_process_whose_name_holds_a_parenthesis_and_leaves_zombies_out(tmp_path):
    odd = tmp_path / "py) Z 1 ("  # /proc/PID/stat shows the name in parentheses, unescaped
    odd.symlink_to(sys.executable)
    sleeper = subprocess.Popen([str(odd), "-S", "-c", "import time; time.sleep(60)"])
    done = subprocess.Popen([sys.executable, "-S", "-c", "pass"])
    try:
        deadline = time.monotonic() + 10
        while proctree.table().get(done.pid, (0, True))[1]:  # exited, not yet reaped: a zombie
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert proctree.table()[sleeper.pid] == (os.getpid(), True)
        found = proctree.tree({os.getpid()})
        assert sleeper.pid in found and done.pid not in found
    finally:
        sleeper.kill()
        sleeper.wait()
        done.wait()


def test_marked_finds_processes_by_the_token_in_their_environment():
    env = dict(os.environ, STUDYKIT_TEST_TOKEN="t0ken")
    proc = subprocess.Popen([sys.executable, "-S", "-c", "import time; time.sleep(60)"], env=env)
    try:
        deadline = time.monotonic() + 10
        while proc.pid not in proctree.marked("STUDYKIT_TEST_TOKEN", "t0ken"):  # environ appears after exec
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert proc.pid not in proctree.marked("STUDYKIT_TEST_TOKEN", "t0ke")
    finally:
        proc.kill()
        proc.wait()


def test_the_kernel_loads_the_shared_module_without_shadowing_a_studykit_module_of_the_note(tmp_path):
    # The kernel takes proctree from beside its own file, so a note folder's own `studykit` module
    # stays the one its cells import.
    (tmp_path / "studykit.py").write_text("OWN = 'the note folder s own module'\n")
    note = tmp_path / "note.md"
    note.write_text("```python run\nimport studykit\nprint(studykit.OWN)\n```\n")
    report = run_note(note, timeout=30)
    assert [r.status for r in report.results] == ["ok"]
    assert report.results[0].output == "the note folder s own module"


def test_ctrl_c_while_the_checker_waits_stops_the_tree_it_started(tmp_path):
    # studykit.processes.run_tree, as `studykit check` uses it, interrupted while the learner's file runs.
    pidfile = tmp_path / "daemon.pid"
    learner = DAEMON + "time.sleep(60)\n"
    caller = ("import sys\nfrom studykit.processes import run_tree\n"
              "run_tree([sys.executable, '-c', sys.argv[1], sys.argv[2]], timeout=60)\n")
    with open(tmp_path / "stderr", "wb") as stderr:  # a file: the tree inherits it, and a pipe would wait for it
        run = subprocess.Popen([sys.executable, "-c", caller, learner, str(pidfile)], stderr=stderr)
    try:
        daemon = _wait_for(pidfile)
        run.send_signal(signal.SIGINT)
        run.wait(timeout=30)
        assert "KeyboardInterrupt" in (tmp_path / "stderr").read_text()
        deadline = time.monotonic() + 5
        while proctree.table().get(daemon, (0, False))[1] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not proctree.table().get(daemon, (0, False))[1], "the daemon outlived Ctrl-C"
    finally:
        run.kill()
        run.wait()
        if pidfile.exists() and proctree.table().get(int(pidfile.read_text()), (0, False))[1]:
            os.kill(int(pidfile.read_text()), signal.SIGKILL)
