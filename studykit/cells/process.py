"""Run cells in the kernel subprocess: output split by cell, timeouts that kill every process the cells started.

One fresh kernel per note (`sys.executable`, the note's folder as working directory, in its own
session). At a timeout the kernel is stopped and its whole process tree killed (studykit.proctree;
the kernel is a subreaper, so daemons that left its session are still in the tree), and the
result says how many processes were killed and which survived. After a timeout or a crash the
kernel is gone with its state: later cells are not run, unless `keep_going`, which starts a
fresh kernel for them (they then run without what the lost cells defined).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from studykit.cells.parse import Cell
from studykit.cells.result import (CellExecutionError, CellResult, CellStatus, CellTimeoutError,
                                     DeadKernelError)

KERNEL = Path(__file__).with_name("kernel.py")
OUTPUT_LIMIT = 1_000_000  # bytes of output kept per cell
EXIT_GRACE = 5.0  # seconds the kernel may take to exit after its last cell
TOKEN_VARIABLE = "STUDYKIT_CELLS_RUN"  # in the environment of everything the cells start
KERNEL_POLL = 0.25  # seconds between checks that the kernel is alive while nothing is printed
STARTUP_ALLOWANCE = 10.0  # seconds allowed between cells (interpreter start-up, saving figures), at least
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")


def clean_output(raw: bytes, dropped: int = 0) -> str:
    """Text for a note: colour codes removed, carriage-return redraws collapsed, oversize cut with a note."""
    text = ANSI.sub("", raw.decode("utf-8", errors="replace")).replace("\r\n", "\n")
    # A progress bar redraws its line with \r; the note keeps what a terminal would show last.
    text = "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n")).rstrip("\n")
    if dropped:
        text += f"\n[output cut: {dropped:,} more bytes not shown (limit {OUTPUT_LIMIT // 1_000_000} MB)]"
    return text


class _Stream:
    """Splits the kernel's output stream into cell output and marker events."""

    def __init__(self, token: str):
        self.prefix = b"\x1e" + token.encode() + b" "
        self.pending = b""

    def feed(self, data: bytes) -> list[tuple[str, object]]:
        self.pending += data
        items: list[tuple[str, object]] = []
        while True:
            at = self.pending.find(self.prefix)
            if at < 0:
                # Hold back what could be the start of a marker split across reads.
                keep = next((k for k in range(min(len(self.prefix) - 1, len(self.pending)), 0, -1)
                             if self.prefix.startswith(self.pending[-k:])), 0)
                cut = len(self.pending) - keep
                if cut:
                    items.append(("output", self.pending[:cut]))
                self.pending = self.pending[cut:]
                return items
            end = self.pending.find(b"\n", at)
            if end < 0:
                if at:
                    items.append(("output", self.pending[:at]))
                self.pending = self.pending[at:]
                return items
            if at:
                items.append(("output", self.pending[:at]))
            items.append(("event", json.loads(self.pending[at + len(self.prefix):end])))
            self.pending = self.pending[end + 1:]

    def rest(self) -> bytes:
        rest, self.pending = self.pending, b""
        return rest


class _Buffer:
    """One cell's output, capped at OUTPUT_LIMIT."""

    def __init__(self):
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = OUTPUT_LIMIT - len(self.data)
        self.data += chunk[:max(room, 0)]
        self.dropped += max(len(chunk) - max(room, 0), 0)

    def text(self, note: str = "") -> str:
        text = clean_output(bytes(self.data), self.dropped)
        return f"{text}\n{note}" if text and note else text or note


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _death(returncode: int | None) -> DeadKernelError:
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return DeadKernelError(returncode, name)
    return DeadKernelError(returncode)


def _cell_error(error: list | None) -> CellExecutionError | None:
    return CellExecutionError(*error) if error else None


def _kill_tree(proc: subprocess.Popen, token: str) -> tuple[int, list[int] | None]:
    """Kill the kernel and every process of this run: (how many, the survivors); survivors None without /proc.

    Its tree while it lives (it is a subreaper); after it died, what carries the run's token.
    """
    if not os.path.isdir("/proc"):
        _kill_group(proc)
        return 1, None
    from studykit.proctree import kill_tree, marked, tree  # only a timeout or a crash needs it

    stopped, left = kill_tree(lambda: tree({proc.pid}) | marked(TOKEN_VARIABLE, token), first=(proc.pid,))
    return len(stopped), left


@dataclass
class Kernel:
    """A kernel process, started and waiting for its job on stdin."""

    proc: subprocess.Popen
    token: str  # tells the kernel's marker lines from what the cells print


def start_kernel(cwd: Path) -> Kernel:
    """Start a kernel in `cwd`; it starts up while the caller reads the note, then waits for `run_cells`."""
    token = os.urandom(8).hex()
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8",
               **{TOKEN_VARIABLE: token})
    proc = subprocess.Popen(
        [sys.executable, "-P", str(KERNEL)], cwd=cwd, env=env, start_new_session=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    return Kernel(proc, token)


def discard(kernel: Kernel) -> None:
    """End a kernel that was given no job (nothing to run, or bad input); nothing if it already ran."""
    if kernel.proc.returncode is None:
        _kill_group(kernel.proc)
        kernel.proc.wait()
    kernel.proc.stdin.close()
    kernel.proc.stdout.close()


def _run_kernel(kernel: Kernel, cells: list[Cell], *, timeout: float, keep_going: bool,
                figdir: Path, stem: str, fresh: bool, on_start, on_done) -> tuple[list[CellResult], bool]:
    """Run cells in the kernel; return their results and whether the kernel died before its end.

    `fresh`: this kernel replaces one that died, so its first result says so.
    """
    proc, token = kernel.proc, kernel.token
    by_index = {c.index: c for c in cells}
    job = {"token": token, "cells": [{"index": c.index, "source": c.source} for c in cells],
           "keep_going": keep_going, "figdir": str(figdir), "stem": stem}
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    stream, results = _Stream(token), []

    def finish(result: CellResult) -> None:
        result.fresh_process = fresh and not results
        results.append(result)
        on_done(result)

    buffers = {c.index: _Buffer() for c in cells}
    todo = [c.index for c in cells]
    current, started = None, time.monotonic()
    deadline = started + max(timeout, STARTUP_ALLOWANCE)
    fd = proc.stdout.fileno()
    ended = timed_out = False
    killed: tuple[int, list[int] | None] = (0, [])
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while not ended:
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                if not selector.select(min(left, KERNEL_POLL)):
                    if proc.poll() is not None:  # died, while a child it left keeps the pipe open
                        break
                    continue
                data = os.read(fd, 1 << 16)
                if not data:
                    break
                for kind, item in stream.feed(data):
                    if kind == "output":
                        # Output between cells (a background child, say) goes to the cell before.
                        target = current if current is not None else (results[-1].index if results else todo[0])
                        buffers[target].add(item)
                    elif "start" in item:
                        current, started = item["start"], time.monotonic()
                        deadline = started + timeout
                        on_start(by_index[current])
                    elif "done" in item:
                        index = item["done"]
                        todo.remove(index)
                        finish(CellResult(index, by_index[index].line, CellStatus(item["status"]), item["duration"],
                                          buffers[index].text(), item["figures"], error=_cell_error(item["error"])))
                        current, deadline = None, time.monotonic() + max(timeout, STARTUP_ALLOWANCE)
                    elif "end" in item:
                        ended = True
            if timed_out:
                killed = _kill_tree(proc, token)
                # What the cell printed before it was killed may still sit in the pipe.
                drain_until = time.monotonic() + 1.0
                while time.monotonic() < drain_until and selector.select(drain_until - time.monotonic()):
                    data = os.read(fd, 1 << 16)
                    if not data:
                        break
                    for kind, item in stream.feed(data):
                        if kind == "output" and todo:
                            buffers[current if current is not None else todo[0]].add(item)
        if ended:
            try:
                proc.wait(EXIT_GRACE)  # the kernel kills what the cells left running, then exits
            except subprocess.TimeoutExpired:
                pass
    finally:
        if not ended and not timed_out:  # it died, or we were interrupted (Ctrl-C): its tree goes too
            _kill_tree(proc, token)
        _kill_group(proc)  # whatever happened above, the kernel and its group end here
        proc.wait()
        proc.stdout.close()
    died = not ended and bool(todo)
    if died:
        index = current if current is not None else todo[0]
        buffers[index].add(stream.rest())
        if timed_out:
            status, error = CellStatus.TIMEOUT, CellTimeoutError(timeout, *killed)
        else:
            status, error = CellStatus.ERROR, _death(proc.returncode)
        finish(CellResult(index, by_index[index].line, status, time.monotonic() - started,
                          buffers[index].text(str(error)), error=error))
    return results, died


def run_cells(kernel: Kernel, cells: list[Cell], *, cwd: Path, timeout: float, keep_going: bool,
              figdir: Path, stem: str, on_start=lambda cell: None,
              on_done=lambda result: None) -> list[CellResult]:
    """Run the cells in order in `kernel` (started in `cwd`); a result for each cell that ran."""
    results: list[CellResult] = []
    remaining = list(cells)
    while remaining:
        kernel = kernel if not results else start_kernel(cwd)
        batch, died = _run_kernel(kernel, remaining, timeout=timeout, keep_going=keep_going,
                                  figdir=figdir, stem=stem, fresh=bool(results),
                                  on_start=on_start, on_done=on_done)
        results += batch
        ran = {r.index for r in batch}
        remaining = [c for c in remaining if c.index not in ran]
        if not (died and keep_going):
            break
    return results
