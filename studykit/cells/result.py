"""What a run of a note's cells gives: a status and a result per cell, the failures as typed errors.

The errors follow nbclient's (nbclient/exceptions.py): `CellExecutionError` for an exception the
cell raised (with its ename, evalue and traceback), `CellTimeoutError` (a TimeoutError) and
`DeadKernelError` (a RuntimeError) for a Python process that is gone. studykit does not raise
them out of `run_note`, which always writes what it can; a result carries its error, and the
text a failed cell's output ends with is the error's own message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class CellStatus(StrEnum):
    OK = "ok"
    ERROR = "error"  # the cell raised, exited or crashed its process
    TIMEOUT = "timeout"
    SKIPPED = "skipped"  # not run in this run (an earlier cell failed, or it was not asked for)
    CACHED = "cached"  # asked for, up to date: its stored output stands

    @property
    def failed(self) -> bool:
        return self in (CellStatus.ERROR, CellStatus.TIMEOUT)

    @property
    def ran(self) -> bool:
        return self in (CellStatus.OK, CellStatus.ERROR, CellStatus.TIMEOUT)


class CellError(Exception):
    """Why a cell did not run cleanly."""


class CellExecutionError(CellError):
    """The cell raised an exception (SystemExit included); `traceback` is what the note shows."""

    def __init__(self, traceback: str, ename: str, evalue: str):
        super().__init__(traceback)
        self.traceback, self.ename, self.evalue = traceback, ename, evalue


class DeadKernelError(CellError, RuntimeError):
    """The Python process running the cells ended in the middle of a cell (exit or crash)."""

    def __init__(self, returncode: int | None, signal_name: str | None = None):
        self.returncode, self.signal_name = returncode, signal_name
        if signal_name:
            text = f"[the Python process running the cells crashed ({signal_name}); later cells lost its state]"
        else:
            text = f"[the cell ended the Python process (exit code {returncode}); later cells lost its state]"
        super().__init__(text)


class CellTimeoutError(CellError, TimeoutError):
    """The cell ran past its timeout; `survivors` are the pids still alive after the kill (None: unknown)."""

    def __init__(self, timeout: float, killed: int, survivors: list[int] | None):
        self.timeout, self.killed, self.survivors = timeout, killed, survivors
        if survivors is None:
            text = (f"[timed out after {timeout:g} s: the Python process was killed, but whether every "
                    f"process the cell started is gone could not be checked]")
        elif survivors:
            text = (f"[timed out after {timeout:g} s: killed {killed} process{'es' * (killed != 1)}, "
                    f"but {len(survivors)} could not be killed (pid {', '.join(map(str, survivors))})]")
        else:
            text = f"[timed out after {timeout:g} s: the cell and the processes it started were killed]"
        super().__init__(text)


@dataclass
class CellResult:
    """What happened to one cell in a run."""

    index: int  # 1-based, in the order the cells appear in the note
    line: int  # of the opening fence
    status: CellStatus
    duration: float = 0.0
    output: str = ""  # for cached and skipped cells, the output already in the note
    figures: list[str] = field(default_factory=list)  # PNG file names
    fresh_process: bool = False  # ran in a new process after a timeout or crash lost the old one
    error: CellError | None = None

    def to_json(self) -> dict:
        return {"index": self.index, "line": self.line, "status": str(self.status),
                "duration": round(self.duration, 4), "output": self.output}


@dataclass
class RunReport:
    """The outcome of `run_note`: per-cell results and what was written."""

    path: Path
    results: list[CellResult]
    written: bool = False  # the note was rewritten
    merged: bool = False  # the note changed during the run and the outputs went into its new text
    lost: list[int] = field(default_factory=list)  # cells whose new output could not be written

    @property
    def changed(self) -> bool:
        """The note changed during the run and some output is not in it."""
        return bool(self.lost)

    @property
    def exit_code(self) -> int:
        if self.changed:
            return 3
        return 1 if any(r.status.failed for r in self.results) else 0
