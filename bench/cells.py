"""Benchmark: a note of 20 small cells run by `studykit run --force` against jupytext + nbclient.

Both are timed as whole processes from a cold start, as the reader would run them: studykit
starts its command and one kernel subprocess; nbclient reads the same note with jupytext, starts
an ipykernel, executes the cells and writes the executed notebook. Goal: studykit <= 0.5x.

    python bench/cells.py [--runs 5] [--cells 20]

Needs the `bench` extra (jupytext, nbclient, ipykernel).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NBCLIENT = """
import sys
import jupytext, nbformat
from nbclient import NotebookClient
note = sys.argv[1]
nb = jupytext.read(note)
NotebookClient(nb, timeout=60, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(nb, note[:-3] + ".ipynb")
"""


def make_note(cells: int) -> str:
    parts = ["# Twenty small cells\n\n```python run\nimport math, statistics\ntotal = 0\nprint('start')\n```\n"]
    for i in range(1, cells):
        parts.append(f"\nStep {i}: a little arithmetic on what the cells above left.\n\n"
                     f"```python run\nvalues_{i} = [n * n for n in range({i} * 200)]\n"
                     f"total += sum(values_{i})\nprint({i}, len(values_{i}), math.isqrt(total))\n```\n")
    return "".join(parts)


def timed(command: list[str], cwd: Path) -> float:
    began = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - began


def notebook_outputs(path: Path) -> list[str]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return ["".join(o.get("text", "") for o in c.outputs).rstrip("\n") for c in nb.cells if c.cell_type == "code"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (default 5), after one warm-up")
    parser.add_argument("--cells", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cells-") as folder:
        folder = Path(folder)
        note = folder / "cells.md"
        note.write_text(make_note(args.cells))
        studykit = [sys.executable, "-m", "studykit", "run", "--force", str(note)]
        nbclient = [sys.executable, "-c", NBCLIENT, str(note), str(folder)]
        for command in (studykit, nbclient):  # warm-up: bytecode caches, disk cache
            timed(command, folder)
        times: dict[str, list[float]] = {"studykit run --force": [], "jupytext + nbclient": []}
        for _ in range(args.runs):  # interleaved, so both see the same load
            times["studykit run --force"].append(timed(studykit, folder))
            times["jupytext + nbclient"].append(timed(nbclient, folder))
        ours = [json.loads(line)["output"] for line in subprocess.run(
            studykit + ["--json"], check=True, capture_output=True, text=True).stdout.splitlines()]
        same = ours == notebook_outputs(note.with_suffix(".ipynb"))
    print(f"{args.cells} cells, {args.runs} runs each after a warm-up, whole process from a cold start")
    print(f"{'tool':<24} {'median s':>9} {'min s':>7}")
    for tool, values in times.items():
        print(f"{tool:<24} {statistics.median(values):9.3f} {min(values):7.3f}")
    ratio = statistics.median(times["studykit run --force"]) / statistics.median(times["jupytext + nbclient"])
    print(f"ratio studykit / nbclient (median): {ratio:.2f}  (goal <= 0.50: {'met' if ratio <= 0.5 else 'NOT met'})")
    print(f"same cell outputs from both: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
