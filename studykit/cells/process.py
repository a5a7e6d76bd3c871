"""Run cells in the kernel subprocess: output split by cell, timeouts that kill every process the cells started.

One fresh kernel per note (`sys.executable`, the note's folder as working directory, in its own
session). Its supervisor (see kernel.py) kills the cells' whole process tree when they end or
when asked at a timeout, and says how many it killed and which survived, so a timeout is
reported as it went. After a timeout or a crash the kernel is gone with its state: later cells
are not run, unless `keep_going`, which starts a fresh kernel for them (they then run without
what the lost cells defined).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from studykit.cells.parse import Cell
from studykit.cells.result import (CellExecutionError, CellResult, CellStatus, CellTimeoutError,
                                     DeadKernelError)

KERNEL = Path(__file__).with_name("kernel.py")
OUTPUT_LIMIT = 1_000_000  # bytes of output kept per cell
EXIT_GRACE = 5.0  # seconds the kernel may take to exit after its last cell, or to kill its tree
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


def _run_kernel(cells: list[Cell], *, cwd: Path, timeout: float, keep_going: bool,
                figdir: Path, stem: str, fresh: bool, on_start, on_done) -> tuple[list[CellResult], bool]:
    """Run cells in one kernel; return their results and whether the kernel died before its end.

    `fresh`: this kernel replaces one that died, so its first result says so.
    """
    token = secrets.token_hex(8)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-P", str(KERNEL)], cwd=cwd, env=env, start_new_session=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
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
    exit_event = None  # the supervisor's last word: exit code, processes killed, survivors
    ended = timed_out = False
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while exit_event is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    if timed_out or ended:  # the supervisor did not answer in time
                        break
                    timed_out = True
                    os.kill(proc.pid, signal.SIGTERM)  # the supervisor kills the cells' whole tree
                    deadline = time.monotonic() + EXIT_GRACE
                    continue
                if not selector.select(left):
                    continue
                data = os.read(fd, 1 << 16)
                if not data:
                    break
                for kind, item in stream.feed(data):
                    if kind == "output":
                        # Output between cells (a background child, say) goes to the cell before.
                        target = current if current is not None else (results[-1].index if results else todo[0])
                        buffers[target].add(item)
                    elif "start" in item and not timed_out:
                        current, started = item["start"], time.monotonic()
                        deadline = started + timeout
                        on_start(by_index[current])
                    elif "done" in item and not timed_out:
                        index = item["done"]
                        todo.remove(index)
                        finish(CellResult(index, by_index[index].line, CellStatus(item["status"]), item["duration"],
                                          buffers[index].text(), item["figures"], error=_cell_error(item["error"])))
                        current, deadline = None, time.monotonic() + max(timeout, STARTUP_ALLOWANCE)
                    elif "end" in item:
                        ended, deadline = True, time.monotonic() + EXIT_GRACE
                    elif "exit" in item:
                        exit_event = item
    finally:
        _kill_group(proc)  # the supervisor and what is left of its group, whatever happened above
        proc.wait()
        proc.stdout.close()
    died = not ended and bool(todo)
    if died:
        index = current if current is not None else todo[0]
        buffers[index].add(stream.rest())
        if timed_out:
            survivors = exit_event["survivors"] if exit_event else None
            status, error = CellStatus.TIMEOUT, CellTimeoutError(
                timeout, exit_event["killed"] if exit_event else 0, survivors)
        else:
            status, error = CellStatus.ERROR, _death(exit_event["exit"] if exit_event else proc.returncode)
        finish(CellResult(index, by_index[index].line, status, time.monotonic() - started,
                          buffers[index].text(str(error)), error=error))
    return results, died


def run_cells(cells: list[Cell], *, cwd: Path, timeout: float, keep_going: bool,
              figdir: Path, stem: str, on_start=lambda cell: None,
              on_done=lambda result: None) -> list[CellResult]:
    """Run the cells in order in one kernel; a result for each cell that ran."""
    results: list[CellResult] = []
    remaining = list(cells)
    while remaining:
        batch, died = _run_kernel(remaining, cwd=cwd, timeout=timeout, keep_going=keep_going,
                                  figdir=figdir, stem=stem, fresh=bool(results),
                                  on_start=on_start, on_done=on_done)
        results += batch
        ran = {r.index for r in batch}
        remaining = [c for c in remaining if c.index not in ran]
        if not (died and keep_going):
            break
    return results
