"""`run_note`: read a note, run the cells that must run, and write their output back into it.

The note is written compare-and-swap: only over the very bytes that were read. If the reader
saved the note while the cells ran, it is read again and the outputs go into the new text, for
each cell whose source and the sources above it are still the same; a few tries, then what could
not be written is reported. Figures are named for the note's path in the vault, so notes of the
same name in different folders never share (or delete) each other's figures.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from studykit.cells.parse import HASH_MARK, Cell, apply_results, embed_line, parse_cells, plan
from studykit.cells.result import CellResult, CellStatus, RunReport
from studykit.errors import UserError

if TYPE_CHECKING:
    from studykit.cells.process import Kernel

WRITE_ATTEMPTS = 5  # reads and merges before the outputs are reported as not written
# A line that opens a cell, roughly (parse_cells decides): only to start the kernel early.
CELL_FENCE = re.compile(rb"(?m)^[ \t>*+\-0-9.)]*(?:`{3,}|~{3,})[ \t]*(?:python[ \t]+(?:run|\{run\})|run-python)")


def vault_root(note: Path) -> Path | None:
    """The folder holding `.obsidian` above the note, if any."""
    return next((root for root in note.resolve().parents if (root / ".obsidian").is_dir()), None)


def attachment_folder(note: Path, root: Path | None) -> Path:
    """Where Obsidian puts a new attachment of `note` (the vault's setting), else `attachments/` beside it."""
    from vault_export.vault import Vault

    note = note.resolve()
    return Vault(root).attachments_dir(note) if root is not None else note.parent / "attachments"


def figure_base(note: Path) -> str:
    """The note's name made safe for a wiki-link."""
    return re.sub(r"[#|^\[\]\\/]", "-", note.stem)


def figure_stem(note: Path, root: Path | None) -> str:
    """`<name>-<id>`: the id is a digest of the note's path in the vault, the same on every machine."""
    note = note.resolve()
    where = note.relative_to(root) if root is not None else Path(note.name)
    # Without a vault the figures go beside the note, so its name alone is unique there.
    key = unicodedata.normalize("NFC", where.as_posix())
    return f"{figure_base(note)}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def _read_note(path: Path) -> bytes:
    if not path.exists():
        raise UserError(f"{path}: no such note")
    if path.suffix.lower() != ".md" or not path.is_file():
        raise UserError(f"{path}: not a Markdown note (.md)")
    return path.read_bytes()


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def run_note(path: Path, *, cells: list[int] | None = None, timeout: float = 60,
             keep_going: bool = False, force: bool = False,
             on_start=lambda cell: None, on_done=lambda result: None) -> RunReport:
    """Run a note's cells and write their output back; UserError for bad input.

    `cells` are 1-based cell numbers. `on_start(cell)` and `on_done(result)` report progress.
    """
    from studykit.cells.process import discard, start_kernel

    path = Path(path)
    raw = _read_note(path)
    # When cells will surely run, the kernel starts now and its start-up overlaps the parsing below.
    sure = force or HASH_MARK.encode() not in raw  # no cell of it ever ran cleanly
    kernel = start_kernel(path.parent.resolve()) if sure and CELL_FENCE.search(raw) else None
    try:
        return _run(kernel, path, raw, cells, timeout, keep_going, force, on_start, on_done)
    finally:
        if kernel is not None:
            discard(kernel)


def _run(kernel: Kernel | None, path: Path, raw: bytes, cells: list[int] | None, timeout: float, keep_going: bool,
         force: bool, on_start, on_done) -> RunReport:
    from studykit.cells.process import run_cells, start_kernel
    from vault_export.atomic import write_atomic

    text = _decode(path, raw)
    base = figure_base(path)
    try:
        found = parse_cells(text, base)
    except UserError as exc:
        raise UserError(f"{path}:{exc}") from None
    if cells is not None:
        unknown = sorted(set(cells) - {c.index for c in found})
        if unknown:
            raise UserError(f"{path}: no cell {', '.join(map(str, unknown))} "
                            f"(the note has {len(found)} cell{'s' * (len(found) != 1)})")
    by_index = {c.index: c for c in found}
    to_run = plan(found, sorted(set(cells)) if cells is not None else None, force)
    wanted = set(cells) if cells is not None else set(by_index)
    results = {c.index: CellResult(c.index, c.line, CellStatus.CACHED if c.index in wanted else CellStatus.SKIPPED,
                                   output=c.output, figures=c.figures) for c in found}
    if not to_run:
        return RunReport(path, list(results.values()))

    def done(result: CellResult) -> None:
        results[result.index] = result
        on_done(result)

    for index in to_run:  # until they run, they count as not run
        results[index].status = CellStatus.SKIPPED
    root = vault_root(path)
    stem = figure_stem(path, root)
    with tempfile.TemporaryDirectory(prefix="studykit-figures-") as figdir:
        outcome = run_cells(kernel or start_kernel(path.parent.resolve()), [by_index[i] for i in to_run],
                            cwd=path.parent.resolve(), timeout=timeout,
                            keep_going=keep_going, figdir=Path(figdir), stem=stem,
                            on_start=on_start, on_done=done)
        ran = {r.index: r for r in outcome}
        # Most notes have no figures: then the vault's attachment setting need not be read at all.
        had_figures = any(r.figures for r in ran.values()) or any(by_index[i].figures for i in ran)
        folder = attachment_folder(path, root) if had_figures else None
        for name, data in ((n, (Path(figdir) / n).read_bytes()) for r in ran.values() for n in r.figures):
            write_atomic(folder / name, data)
    report = RunReport(path, list(results.values()))
    new_text = _write_back(path, raw, found, ran, base, report)
    if new_text is not None and folder is not None:
        _remove_stale_figures(folder, found, ran, new_text, base, stem)
    return report


def _write_back(path: Path, raw: bytes, cells: list[Cell], ran: dict[int, CellResult], base: str,
                report: RunReport) -> str | None:
    """Write the results into the note, compare-and-swap; the text now on disk, None if none of it was written."""
    from vault_export.atomic import write_if_unchanged

    by_hash = {c.hash: ran[c.index] for c in cells if c.index in ran}
    now = cells
    for attempt in range(WRITE_ATTEMPTS):
        try:
            text = raw.decode("utf-8")
            if attempt:
                now = parse_cells(text, base)
        except (UnicodeDecodeError, UserError):  # the reader's new text is no note we can write into
            break
        # A cell whose source, or a source above it, changed meanwhile ran as other code: its output is stale.
        placed = {c.index: by_hash[c.hash] for c in now if c.hash in by_hash}
        new_text = apply_results(text, now, placed)
        if write_if_unchanged(path, new_text.encode("utf-8"), raw):
            placed_ids = {id(r) for r in placed.values()}
            report.lost = sorted(r.index for r in ran.values() if id(r) not in placed_ids)
            report.written = new_text != text
            report.merged = attempt > 0
            return new_text
        try:
            raw = path.read_bytes()
        except OSError:  # moved or deleted meanwhile
            break
    report.lost = sorted(ran)
    return None


def _remove_stale_figures(folder: Path, cells: list[Cell], ran: dict[int, CellResult],
                          text: str, base: str, stem: str) -> None:
    """Delete this note's figure files that re-run cells embedded before and nothing in the note embeds now.

    Only files named for this note's path: a figure of a note elsewhere with the same name, or of
    the older `<name>-cell<N>.png` naming that notes of the same name shared, is never deleted.
    """
    still = set(embed_line(base).findall(text))
    for cell in cells:
        if cell.index in ran:
            for name in set(cell.figures) - still:
                if name.startswith(f"{stem}-cell"):
                    (folder / name).unlink(missing_ok=True)
