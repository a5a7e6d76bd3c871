"""A note's code cells: find them, decide which must run, run them, and write their output back in place.

A cell is a fenced block whose info string is `python run`, `python {run}` or `run-python`,
found by markdown-it as Obsidian sees it (in lists, callouts, `~~~` fences). Right after it
comes its generated tail, the only part studykit rewrites:

    ```cell-output           <- stdout and stderr, then the trimmed traceback
    ...
    ```
    %% studykit:cell 3f2a... %%    <- hash of this cell's source and every source above it
    ![[Note-1a2b3c4d-cell2.png]]  <- figures the cell left open (the id is the note's path's)

Cache: cells share one process, so cell N can only run after cells 1..N-1 ran in that process.
A cell is up to date when its recorded hash matches and so do all cells above it (the hash is
only recorded after a clean run). When every cell asked for is up to date nothing runs at
all; otherwise the run starts from cell 1 and goes down to the last cell asked for, and the
cells it passes through are re-run and their output refreshed, because their state is what
the later cells see. `--force` treats every cell as out of date.

Modules: `parse` (text only), `process` and `kernel` (the subprocess), `note` (files), `result`.
"""

from studykit.cells.note import run_note
from studykit.cells.parse import Cell, parse_cells, plan
from studykit.cells.result import (CellError, CellExecutionError, CellResult, CellStatus, CellTimeoutError,
                                   DeadKernelError, RunReport)

__all__ = ["Cell", "CellError", "CellExecutionError", "CellResult", "CellStatus", "CellTimeoutError",
           "DeadKernelError", "RunReport", "parse_cells", "plan", "run_note"]
