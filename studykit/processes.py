"""A child process and everything it starts: run it with a timeout, then stop whatever it left running.

Killing the child's process group is not enough: a grandchild that calls `setsid` leaves the
group, and a double-forked daemon is re-parented away from its parent chain. On Linux this
process makes itself a child subreaper while the child runs (prctl PR_SET_CHILD_SUBREAPER),
so every orphan of the tree is re-parented to us instead of to init, and the tree is found by
walking /proc's parent links. Elsewhere only the process group is killed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_PR_SET_CHILD_SUBREAPER, _PR_GET_CHILD_SUBREAPER = 36, 37


@dataclass(frozen=True)
class Finished:
    returncode: int | None  # None: killed at the timeout
    timed_out: bool
    stopped: int  # processes of the tree, besides the child itself, still running at the end and killed


def _libc():
    if not _PROC.is_dir():
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


@contextmanager
def subreaper():
    """While inside, orphans of our descendants become our children (Linux; elsewhere nothing changes)."""
    libc = _libc()
    old = ctypes.c_int(0)
    if libc is None or libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(old), 0, 0, 0) != 0:
        yield
        return
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    try:
        yield
    finally:
        libc.prctl(_PR_SET_CHILD_SUBREAPER, old.value, 0, 0, 0)


def _table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state letter) of every process, from /proc/PID/stat."""
    table = {}
    for entry in _PROC.iterdir() if _PROC.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended while we looked
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces
        table[int(entry.name)] = (int(fields[1]), fields[0])
    return table


def children(pid: int) -> set[int]:
    """The live processes whose parent is `pid`."""
    return {p for p, (parent, state) in _table().items() if parent == pid and state != "Z"}


def _tree(roots: set[int], table: dict[int, tuple[int, str]]) -> set[int]:
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        todo += [p for p, (parent, _) in table.items() if parent == pid]
    return found


def _signal(pids: set[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def stop_tree(root: int, spare: set[int]) -> set[int]:
    """SIGKILL `root`, its descendants and the orphans re-parented to us (our children not in `spare`).

    Returns the pids killed. Reaps those that were our children, except `root` (its Popen does).
    """
    me, stopped, settled = os.getpid(), set(), False
    # Stopped first, so that none can fork or exit (which would cut a parent chain) while we look.
    while True:
        table = _table()
        ours = {p for p, (parent, _) in table.items() if parent == me and p not in spare}
        new = {p for p in _tree(ours | {root}, table) if p in table and table[p][1] != "Z"} - stopped - {me}
        if not new:
            if settled:
                break
            settled = True  # one more look after a breath, for a fork that was in flight
            time.sleep(0.01)
            continue
        settled = False
        _signal(new, signal.SIGSTOP)
        stopped |= new
    try:
        os.killpg(root, signal.SIGKILL)  # without /proc, the process group is all we know of
    except (ProcessLookupError, PermissionError):
        pass
    _signal(stopped, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        table = _table()
        for pid in stopped - {root}:
            if table.get(pid, (0, ""))[0] == me:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
        if not any(pid in table and table[pid][1] != "Z" for pid in stopped):
            break
        time.sleep(0.01)
    return stopped


def run_tree(cmd: list[str], *, timeout: float, input: bytes = b"", **popen) -> Finished:
    """Run `cmd` until it exits or `timeout` seconds pass, then kill what is left of its tree.

    Waits for the child itself, never for pipes its descendants may hold open: give stdout and
    stderr files (or DEVNULL), not PIPE.
    """
    spare = children(os.getpid())
    with subreaper():
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, start_new_session=True, **popen)
        try:
            proc.stdin.write(input)
            proc.stdin.close()
        except BrokenPipeError:  # it exited without reading: its exit status says why
            pass
        try:
            returncode, timed_out = proc.wait(timeout=timeout), False
        except subprocess.TimeoutExpired:
            returncode, timed_out = None, True
        killed = stop_tree(proc.pid, spare)
        proc.wait()
    return Finished(returncode, timed_out, len(killed - {proc.pid}))
