"""Runs code cells alone, each in a process of its own: the `run_alone` fixture starts this as
`python -c` (so `sys.path[0]` and `sys.argv` are what a cell run by `python -c` sees).

A fresh `python -c CELL` per cell imports torch each time (~1.5 s of CPU); this process imports it
once and forks a child per cell, which runs the cell with fresh globals, its stdout and stderr
going to files: no other cell ran there, and a name the cell does not import or define itself
still fails. One JSON line a cell on stdin ({"code", "cwd", "out", "err", "timeout"}), one line
back: the exit code as `subprocess` gives it (-N for a signal).
"""

import json
import os
import signal
import sys
import traceback

import torch  # noqa: F401 - every cell imports it: loaded once, before the forks


def run(cell: dict) -> None:
    """In the child: the cell as `python -c` runs it; exits with its status."""
    os.chdir(cell["cwd"])
    for fd, path in ((1, cell["out"]), (2, cell["err"])):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
    signal.alarm(cell["timeout"])  # SIGALRM ends a cell that runs too long
    status = 0
    try:
        exec(compile(cell["code"], "<string>", "exec"), {"__name__": "__main__"})
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:  # noqa: BLE001 - reported as python -c reports it
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


for line in sys.stdin:
    cell = json.loads(line)
    pid = os.fork()
    if pid == 0:
        run(cell)
    print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
