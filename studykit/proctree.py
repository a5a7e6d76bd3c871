"""The processes a run started: found through /proc, stopped, then killed (standard library only).

Killing a child's process group is not enough: a grandchild that calls `setsid` leaves the
group, and a double-forked daemon is re-parented away from its parent chain. On Linux the
process that owns a run makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so every
orphan of the tree is re-parented to it instead of to init, and the tree is found by walking
/proc's parent links. Both the exercise checker (studykit.processes) and the cell kernel use
this module; the kernel loads it by its path, so it must import nothing but cheap standard modules.
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager

PROC = "/proc"
_PR_SET_CHILD_SUBREAPER, _PR_GET_CHILD_SUBREAPER = 36, 37


def table() -> dict[int, tuple[int, bool]]:
    """pid -> (parent pid, alive) of every process, from /proc/PID/stat; a zombie is not alive."""
    found: dict[int, tuple[int, bool]] = {}
    try:
        entries = os.listdir(PROC)
    except OSError:  # no /proc: not Linux
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"{PROC}/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:  # it ended while we looked
            continue
        fields = stat.rsplit(b")", 1)[1].split()  # the name in parentheses may hold spaces and ")"
        found[int(entry)] = (int(fields[1]), fields[0] != b"Z")
    return found


def tree(roots, processes: dict[int, tuple[int, bool]] | None = None) -> set[int]:
    """The live processes among `roots` and all their descendants, by the parent links of `processes` (table())."""
    processes = table() if processes is None else processes
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children.get(pid, ())
    return {pid for pid in found if processes.get(pid, (0, False))[1]}


def marked(variable: str, token: str) -> set[int]:
    """Pids whose environment sets `variable` to `token`: what a run started, wherever it went."""
    needle = f"\0{variable}={token}\0".encode()
    found = set()
    for entry in os.listdir(PROC) if os.path.isdir(PROC) else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"{PROC}/{entry}/environ", "rb") as handle:
                if needle in b"\0" + handle.read():
                    found.add(int(entry))
        except OSError:  # gone, or another user's
            continue
    return found


def _signal(pids, sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def kill_tree(find, first=()) -> tuple[set[int], list[int]]:
    """Stop, then kill, `first` and every pid `find()` returns; return the pids killed and those still alive.

    Stopped first, so that none can fork, or exit and cut a parent chain, while we look. Those that
    are this process's children are reaped, except `first` (the caller's Popen waits for those).
    """
    me = os.getpid()
    stopped = set(first) - {me}
    _signal(stopped, signal.SIGSTOP)
    settled = False
    while True:
        new = find() - stopped - {me}
        if not new:
            if settled:
                break
            settled = True  # one more look after a breath, for a fork that was in flight
            time.sleep(0.01)
            continue
        settled = False
        _signal(new, signal.SIGSTOP)
        stopped |= new
    _signal(stopped, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while True:
        processes = table()
        for pid in stopped.difference(first):
            if processes.get(pid, (0, False))[0] == me:  # our child: a zombie until reaped
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
        left = sorted(pid for pid in stopped if processes.get(pid, (0, False))[1])
        if not left or time.monotonic() > deadline:
            return stopped, left
        time.sleep(0.01)


@contextmanager
def subreaper():
    """While inside, orphans of our descendants become our children (Linux; elsewhere nothing changes)."""
    prctl = None
    if os.path.isdir(PROC):
        import ctypes  # only where there is a prctl to call

        try:
            prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            pass
        old = ctypes.c_int(0)
    if prctl is None or prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(old), 0, 0, 0) != 0:
        yield
        return
    prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    try:
        yield
    finally:
        prctl(_PR_SET_CHILD_SUBREAPER, old.value, 0, 0, 0)
