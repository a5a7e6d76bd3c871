"""A note's code cells: find them, decide which must run, and write their output back in place.

A cell is a fenced block whose info string is `python run`, `python {run}` or `run-python`,
found by markdown-it as Obsidian sees it (in lists, callouts, `~~~` fences). Right after it
comes its generated tail, the only part studykit rewrites:

    ```output            <- stdout and stderr, then the trimmed traceback (Execute Code's block)
    ...
    ```
    %% studykit:cell 3f2a... %%   <- hash of this cell's source and every source above it
    ![[Note-cell2.png]]          <- figures the cell left open

Cache: cells share one process, so cell N can only run after cells 1..N-1 ran in that process.
A cell is up to date when its recorded hash matches and so do all cells above it (the hash is
only recorded after a clean run). When every cell asked for is up to date nothing runs at
all; otherwise the run starts from cell 1 and goes down to the last cell asked for, and the
cells it passes through are re-run and their output refreshed, because their state is what
the later cells see. `--force` treats every cell as out of date.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from studykit.errors import UserError
from vault_export.atomic import write_atomic

RUN_INFOS = {"python run", "python {run}", "run-python"}
HASH_LINE = re.compile(r"%% studykit:cell ([0-9a-f]{16}) %%")
LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
EOL = re.compile(r"(\r\n|\r|\n)\Z")


@dataclass
class Cell:
    """One runnable code block of a note and the generated tail that follows it."""

    index: int  # 1-based, in the order the cells appear in the note
    line: int  # 1-based line of the opening fence
    source: str
    hash: str  # of this cell's source and the sources of every cell above it
    prefix: str  # what the lines in the cell's container start with: "", "> ", "  "...
    end: int  # 0-based line after the closing fence
    tail_end: int  # 0-based line after the generated output block, hash comment and embeds
    recorded_hash: str | None = None
    output: str = ""  # the output block already in the note
    figures: list[str] = field(default_factory=list)  # figure files already embedded


@dataclass
class CellResult:
    """What happened to one cell in a run."""

    index: int
    line: int
    status: str  # ok | error | timeout | skipped | cached
    duration: float = 0.0
    output: str = ""  # for cached and skipped cells, the output already in the note
    figures: list[str] = field(default_factory=list)
    fresh_process: bool = False  # ran in a new process after a timeout or crash lost the old one

    def to_json(self) -> dict:
        return {"index": self.index, "line": self.line, "status": self.status,
                "duration": round(self.duration, 4), "output": self.output}


@dataclass
class RunReport:
    """The outcome of `run_note`: per-cell results and what was written."""

    path: Path
    results: list[CellResult]
    written: bool = False  # the note was rewritten
    changed: bool = False  # the note changed on disk during the run, so nothing was written

    @property
    def exit_code(self) -> int:
        if self.changed:
            return 3
        return 1 if any(r.status in ("error", "timeout") for r in self.results) else 0


def split_lines(text: str) -> list[str]:
    """Lines with their endings, broken where Markdown breaks them (\\r\\n, \\r or \\n)."""
    return LINES.findall(text)


def _eol(line: str) -> str:
    match = EOL.search(line)
    return match.group(1) if match else ""


def _markdown():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    # Front matter parsed as such, so a ``` inside a property value is not taken for a fence.
    return MarkdownIt("commonmark").use(front_matter_plugin)


def is_cell_info(info: str) -> bool:
    return " ".join(info.split()) in RUN_INFOS


def _container_prefix(line: str, markup: str) -> str:
    """The prefix of the lines inside a fence's container, from its opening line: list markers become spaces."""
    return re.sub(r"[^>\s]", " ", line[:line.index(markup)])


def _is_closed(lines: list[str], start: int, end: int, markup: str) -> bool:
    if end - 1 <= start:
        return False
    last = lines[end - 1].rstrip("\r\n")
    return re.fullmatch(r"[ \t>]*" + re.escape(markup[0]) + "{%d,}[ \t]*" % len(markup), last) is not None


def _embed_line(stem: str) -> re.Pattern:
    return re.compile(r"!\[\[(" + re.escape(stem) + r"-cell\d+(?:-\d+)?\.png)\]\]")


def figure_stem(note: Path) -> str:
    """The note's name made safe for a wiki-link: figures are `<stem>-cell<N>.png`."""
    return re.sub(r"[#|^\[\]\\/]", "-", note.stem)


def parse_cells(text: str, stem: str) -> list[Cell]:
    """The note's code cells with their generated tails; UserError for a cell never closed."""
    lines = split_lines(text)
    fences = [t for t in _markdown().parse(text) if t.type == "fence" and t.map]
    embed = _embed_line(stem)
    digest = hashlib.sha256()
    cells: list[Cell] = []
    for k, token in enumerate(fences):
        if not is_cell_info(token.info):
            continue
        start, end = token.map
        if not _is_closed(lines, start, end, token.markup):
            raise UserError(f"line {start + 1}: the code cell's fence is never closed")
        source = token.content
        digest.update(f"{len(source)}:{source}".encode())
        prefix = _container_prefix(lines[start], token.markup)
        cell = Cell(len(cells) + 1, start + 1, source, digest.hexdigest()[:16], prefix, end, end)
        following = fences[k + 1] if k + 1 < len(fences) else None
        if (following is not None and following.map[0] == end and following.info.strip() == "output"
                and _container_prefix(lines[end], following.markup) == prefix
                and _is_closed(lines, *following.map, following.markup)):
            cell.output = following.content.rstrip("\n")
            cell.tail_end = following.map[1]
        while cell.tail_end < len(lines) and lines[cell.tail_end].startswith(prefix):
            rest = lines[cell.tail_end][len(prefix):].strip()
            if (m := HASH_LINE.fullmatch(rest)) and cell.recorded_hash is None:
                cell.recorded_hash = m.group(1)
            elif m := embed.fullmatch(rest):
                cell.figures.append(m.group(1))
            else:
                break
            cell.tail_end += 1
        cells.append(cell)
    return cells


def plan(cells: list[Cell], wanted: list[int] | None, force: bool) -> list[int]:
    """Indices of the cells to run, in order (see the module docstring for why)."""
    up_to_date = 0
    if not force:
        while up_to_date < len(cells) and cells[up_to_date].recorded_hash == cells[up_to_date].hash:
            up_to_date += 1
    targets = wanted if wanted is not None else [c.index for c in cells]
    stale = [i for i in targets if i > up_to_date]
    return list(range(1, max(stale) + 1)) if stale else []


def longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def render_tail(cell: Cell, result: CellResult, eol: str) -> list[str]:
    """The generated lines after a cell that just ran, in the cell's container."""
    p = cell.prefix
    lines = []
    if result.output:
        fence = "`" * max(3, longest_backtick_run(result.output) + 1)
        lines.append(f"{p}{fence}output")
        lines += [p + line if line else p.rstrip() for line in result.output.split("\n")]
        lines.append(p + fence)
    if result.status == "ok":
        lines.append(f"{p}%% studykit:cell {cell.hash} %%")
    lines += [f"{p}![[{name}]]" for name in result.figures]
    return [line + eol for line in lines]


def apply_results(text: str, cells: list[Cell], results: dict[int, CellResult]) -> str:
    """The note with the tail of every cell in `results` replaced; all else byte for byte."""
    lines = split_lines(text)
    default_eol = next((_eol(line) for line in lines if _eol(line)), "\n")
    out: list[str] = []
    pos = 0
    for cell in cells:
        if cell.index not in results:
            continue
        out += lines[pos:cell.end]
        eol = _eol(out[-1])
        tail = render_tail(cell, results[cell.index], eol or default_eol)
        if tail and not eol:  # the cell closed the file without a newline
            out[-1] += default_eol
        out += tail
        pos = cell.tail_end
    out += lines[pos:]
    return "".join(out)


def attachment_folder(note: Path) -> Path:
    """Where Obsidian puts a new attachment of `note` (the vault's setting), else `attachments/` beside it."""
    from vault_export.vault import Vault

    note = note.resolve()
    for root in note.parents:
        if (root / ".obsidian").is_dir():
            return Vault(root).attachments_dir(note)
    return note.parent / "attachments"


def _read_note(path: Path) -> bytes:
    if not path.exists():
        raise UserError(f"{path}: no such note")
    if path.suffix.lower() != ".md" or not path.is_file():
        raise UserError(f"{path}: not a Markdown note (.md)")
    return path.read_bytes()


def run_note(path: Path, *, cells: list[int] | None = None, timeout: float = 60,
             keep_going: bool = False, force: bool = False,
             on_start=lambda cell: None, on_done=lambda result: None) -> RunReport:
    """Run a note's cells and write their output back; UserError for bad input.

    `cells` are 1-based cell numbers. `on_start(cell)` and `on_done(result)` report progress.
    """
    from studykit.cell_process import run_cells

    path = Path(path)
    raw = _read_note(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    stem = figure_stem(path)
    try:
        found = parse_cells(text, stem)
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
    results = {c.index: CellResult(c.index, c.line, "cached" if c.index in wanted else "skipped",
                                   output=c.output, figures=c.figures) for c in found}
    if not to_run:
        return RunReport(path, list(results.values()))

    def done(outcome) -> None:
        result = CellResult(outcome.index, by_index[outcome.index].line, outcome.status,
                            outcome.duration, outcome.output, outcome.figures, outcome.fresh_process)
        results[outcome.index] = result
        on_done(result)

    for index in to_run:  # until they run, they count as not run
        results[index].status = "skipped"
    with tempfile.TemporaryDirectory(prefix="studykit-figures-") as figdir:
        outcomes = run_cells([(i, by_index[i].source) for i in to_run], cwd=path.parent.resolve(),
                             timeout=timeout, keep_going=keep_going, figdir=Path(figdir), stem=stem,
                             on_start=lambda i: on_start(by_index[i]), on_done=done)
        ran = {o.index: results[o.index] for o in outcomes}
        new_text = apply_results(text, found, ran)
        folder = attachment_folder(path)
        figures = {name: (Path(figdir) / name).read_bytes() for r in ran.values() for name in r.figures}
        if new_text == text and all(_same(folder / n, data) for n, data in figures.items()):
            return RunReport(path, list(results.values()))
        if not _same(path, raw):  # the reader edited (or moved) the note meanwhile
            return RunReport(path, list(results.values()), changed=True)
        for name, data in figures.items():
            write_atomic(folder / name, data)
    written = write_atomic(path, new_text.encode("utf-8"))
    _remove_stale_figures(folder, found, ran, new_text, stem)
    return RunReport(path, list(results.values()), written=written)


def _same(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def _remove_stale_figures(folder: Path, cells: list[Cell], ran: dict[int, CellResult],
                          text: str, stem: str) -> None:
    """Delete figure files that re-run cells embedded before and nothing in the note embeds now."""
    still = set(_embed_line(stem).findall(text))
    for cell in cells:
        if cell.index in ran:
            for name in set(cell.figures) - still:
                (folder / name).unlink(missing_ok=True)
