"""`studykit run NOTE.md`: run a note's code cells and write their output into the note."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from pathlib import Path

from studykit.errors import UserError

DESCRIPTION = """\
Run the ```python run cells of a note (also `python {run}` and `run-python`) in order in one
fresh Python process with the note's folder as working directory, and write each cell's output
into a ```cell-output block right after it, figures as PNGs into the vault's attachment folder.
Cells whose source and every source above them are unchanged since their last clean run are
cached; if any must run, the run starts from the first cell. If you save the note while the
cells run, the outputs go into your new text (never over it).
Exit status: 0 all ran, 1 a cell failed or timed out, 2 bad input, 3 the note changed during the
run so that some output could not be written (the cell's source changed, or the note moved)."""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "run", help="run a note's code cells and write their output into the note",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("note", type=Path, metavar="NOTE.md")
    parser.add_argument("--cell", type=int, action="append", metavar="N",
                        help="run cell N (counted from 1; repeat for more); the cells above it run first")
    parser.add_argument("--timeout", type=float, default=60, metavar="SECONDS",
                        help="seconds a cell may run before it is killed with its processes (default 60)")
    parser.add_argument("--keep-going", action="store_true",
                        help="run the cells after one that fails (after a timeout or crash, in a fresh process)")
    parser.add_argument("--force", action="store_true", help="run every cell, cached or not")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per cell: index, line, status, duration, output")
    parser.set_defaults(func=run)


@contextlib.contextmanager
def _progress():
    """(on_start, on_done) callbacks that draw a spinner on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        yield (lambda cell: None), (lambda result: None)
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("starting Python", total=None)
        finished = []

        def on_start(cell):
            progress.update(task, description=f"cell {cell.index} (line {cell.line}), {len(finished)} done")

        def on_done(result):
            finished.append(result)

        yield on_start, on_done


def _last_line(text: str) -> str:
    return text.strip().rsplit("\n", 1)[-1] if text.strip() else ""


def _cells(indices: list[int]) -> str:
    return f"cell{'s' * (len(indices) != 1)} {', '.join(map(str, indices))}"


def _state(report) -> str:
    if report.changed and not report.written:
        return f"the note changed while the cells ran: nothing written ({_cells(report.lost)}); run again"
    if report.changed:
        return (f"the note changed while the cells ran: outputs merged into it, except {_cells(report.lost)} "
                f"(its source changed); run again")
    if report.merged:
        return "the note changed while the cells ran: outputs merged into your new text"
    return "note written" if report.written else "note unchanged"


def _summary(report) -> list[str]:
    from studykit.cells import CellStatus

    lines = []
    for r in report.results:
        what = f"{r.status:<8} {r.duration:6.2f} s" if r.status.ran else r.status
        detail = _last_line(r.output) if r.status.failed else ""
        if r.fresh_process:
            detail = (detail + "  " if detail else "") + "(fresh process: earlier cells' names are gone)"
        lines.append(f"cell {r.index:>2}  line {r.line:<5} {what}  {detail}".rstrip())
    failed = [r.index for r in report.results if r.status.failed]
    ran = [r for r in report.results if r.status.ran]
    counts = f"{len(ran)} ran" + (f", {len(failed)} failed (cell {', '.join(map(str, failed))})" if failed else "")
    if failed:
        not_run = [r.index for r in report.results if r.status == CellStatus.SKIPPED and r.index > failed[0]]
        if not_run:
            counts += f", not run: cell {', '.join(map(str, not_run))}"
    if not report.results:
        counts = "no code cells (```python run)"
    state = _state(report)
    lines.append(f"{report.path}: {counts}; {state}")
    return lines


def run(args: argparse.Namespace) -> int:
    from studykit.cells import run_note

    if not (args.timeout > 0 and math.isfinite(args.timeout)):
        raise UserError(f"--timeout {args.timeout:g}: must be a number of seconds more than 0")
    with _progress() as (on_start, on_done):
        report = run_note(args.note, cells=args.cell, timeout=args.timeout, keep_going=args.keep_going,
                          force=args.force, on_start=on_start, on_done=on_done)
    if args.json:
        for result in report.results:
            print(json.dumps(result.to_json(), ensure_ascii=False))
        if report.changed or report.merged:
            print(f"studykit: {report.path}: {_state(report)}", file=sys.stderr)
    else:
        print("\n".join(_summary(report)))
    return report.exit_code
