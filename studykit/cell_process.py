"""Run cells in the cell kernel subprocess: output split by cell, timeouts that kill the process group.

One fresh kernel per note (`sys.executable`, the note's folder as working directory, in its own
session so that killing its process group also kills what the cells started). After a timeout
or a crash the kernel is gone with its state: later cells are not run, unless `keep_going`,
which starts a fresh kernel for them (they then run without what the lost cells defined).
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
from dataclasses import dataclass, field
from pathlib import Path

KERNEL = Path(__file__).with_name("cell_kernel.py")
OUTPUT_LIMIT = 1_000_000  # bytes of output kept per cell
EXIT_GRACE = 5.0  # seconds the kernel may take to exit after its last cell
STARTUP_ALLOWANCE = 10.0  # seconds allowed between cells (interpreter start-up, saving figures), at least
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")


@dataclass
class CellOutcome:
    """What running one cell gave."""

    index: int
    status: str  # ok | error | timeout
    duration: float
    output: str
    figures: list[str] = field(default_factory=list)  # PNG file names, in the figure folder
    fresh_process: bool = False  # it ran in a new kernel started after a timeout or crash


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


def _exit_note(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"[the Python process running the cells crashed ({name}); later cells lost its state]"
    return f"[the cell ended the Python process (exit code {returncode}); later cells lost its state]"


def _run_kernel(cells: list[tuple[int, str]], *, cwd: Path, timeout: float, keep_going: bool,
                figdir: Path, stem: str, fresh: bool, on_start, on_done) -> tuple[list[CellOutcome], bool]:
    """Run cells in one kernel; return the outcomes and whether the kernel died before its end.

    `fresh`: this kernel replaces one that died, so its first outcome says so.
    """
    token = secrets.token_hex(8)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-P", str(KERNEL)], cwd=cwd, env=env, start_new_session=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    job = {"token": token, "cells": [{"index": i, "source": s} for i, s in cells],
           "keep_going": keep_going, "figdir": str(figdir), "stem": stem}
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    stream, outcomes = _Stream(token), []

    def finish(outcome: CellOutcome) -> None:
        outcome.fresh_process = fresh and not outcomes
        outcomes.append(outcome)
        on_done(outcome)

    buffers = {i: _Buffer() for i, _ in cells}
    todo = [i for i, _ in cells]
    current, started = None, time.monotonic()
    deadline = started + max(timeout, STARTUP_ALLOWANCE)
    fd = proc.stdout.fileno()
    ended = timed_out = False
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not ended:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            if not selector.select(left):
                continue
            data = os.read(fd, 1 << 16)
            if not data:
                break
            for kind, item in stream.feed(data):
                if kind == "output":
                    # Output between cells (a background child, say) goes to the cell before.
                    target = current if current is not None else (outcomes[-1].index if outcomes else todo[0])
                    buffers[target].add(item)
                elif "start" in item:
                    current, started = item["start"], time.monotonic()
                    deadline = started + timeout
                    on_start(current)
                elif "done" in item:
                    todo.remove(item["done"])
                    finish(CellOutcome(item["done"], item["status"], item["duration"],
                                       buffers[item["done"]].text(), item["figures"]))
                    current, deadline = None, time.monotonic() + max(timeout, STARTUP_ALLOWANCE)
                elif "end" in item:
                    ended = True
        if timed_out:
            _kill_group(proc)
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
            proc.wait(EXIT_GRACE)
        except subprocess.TimeoutExpired:
            pass
    _kill_group(proc)  # what the cells left running in the background goes with the kernel
    proc.wait()
    proc.stdout.close()
    died = not ended and bool(todo)
    if died:
        index = current if current is not None else todo[0]
        buffers[index].add(stream.rest())
        if timed_out:
            status, note = "timeout", f"[timed out after {timeout:g} s: the cell and the processes it started were killed]"
        else:
            status, note = "error", _exit_note(proc.returncode)
        finish(CellOutcome(index, status, time.monotonic() - started, buffers[index].text(note)))
    return outcomes, died


def run_cells(cells: list[tuple[int, str]], *, cwd: Path, timeout: float, keep_going: bool,
              figdir: Path, stem: str, on_start=lambda index: None,
              on_done=lambda outcome: None) -> list[CellOutcome]:
    """Run (index, source) cells in order in one kernel; an outcome for each cell that ran."""
    outcomes: list[CellOutcome] = []
    remaining = list(cells)
    while remaining:
        batch, died = _run_kernel(remaining, cwd=cwd, timeout=timeout, keep_going=keep_going,
                                  figdir=figdir, stem=stem, fresh=bool(outcomes),
                                  on_start=on_start, on_done=on_done)
        outcomes += batch
        ran = {o.index for o in batch}
        remaining = [c for c in remaining if c[0] not in ran]
        if not (died and keep_going):
            break
    return outcomes
