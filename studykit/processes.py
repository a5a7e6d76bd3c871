"""A child process and everything it starts: run it with a timeout, then stop whatever it left running.

While the child runs this process is a child subreaper, so orphans of the child's tree come back
to us and are found in /proc (studykit.proctree). Without /proc only the process group is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass

from studykit.proctree import kill_tree, subreaper, table, tree


@dataclass(frozen=True)
class Finished:
    returncode: int | None  # None: killed at the timeout
    timed_out: bool
    stopped: int  # processes of the tree, besides the child itself, still running at the end and killed


def _stop_tree(root: int, spare: set[int]) -> set[int]:
    """Kill `root`, its descendants and the orphans re-parented to us (our children not in `spare`)."""
    me = os.getpid()

    def find() -> set[int]:
        processes = table()
        orphans = {pid for pid, (parent, _) in processes.items() if parent == me and pid not in spare}
        return tree(orphans | {root}, processes)

    stopped, _ = kill_tree(find, first=(root,))
    try:
        os.killpg(root, signal.SIGKILL)  # without /proc, the process group is all we know of
    except (ProcessLookupError, PermissionError):
        pass
    return stopped


def run_tree(cmd: list[str], *, timeout: float, input: bytes = b"", **popen) -> Finished:
    """Run `cmd` until it exits or `timeout` seconds pass, then kill what is left of its tree.

    Waits for the child itself, never for pipes its descendants may hold open: give stdout and
    stderr files (or DEVNULL), not PIPE.
    """
    me = os.getpid()
    spare = {pid for pid, (parent, alive) in table().items() if parent == me and alive}
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
        finally:  # also on Ctrl-C: nothing the child started outlives studykit
            killed = _stop_tree(proc.pid, spare)
            proc.wait()
    return Finished(returncode, timed_out, len(killed - {proc.pid}))
