"""Find a note's code cells as Markdown sees them, plan which must run, and render their output back.

Pure text in, text out: no files, no processes. See the package docstring for the format.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from studykit.cells.result import CellResult, CellStatus
from studykit.errors import UserError

RUN_INFOS = {"python run", "python {run}", "run-python"}
# The block studykit writes the output into. Not `output`: Execute Code's stylesheet hides
# `pre.language-output` in reading view (src/styles.css), and its persistent output appends into
# an `output` block right after the cell (src/output/FileAppender.ts). `output` blocks are still
# read as this cell's output, so notes written before keep working and get rewritten.
OUTPUT_INFO = "cell-output"
OUTPUT_INFOS = {OUTPUT_INFO, "output"}
HASH_MARK = "%% studykit:cell"
HASH_LINE = re.compile(re.escape(HASH_MARK) + r" ([0-9a-f]{16}) %%")
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
    # Fences are blocks: the inline pass (most of the parsing time) would change none of them.
    return MarkdownIt("commonmark").use(front_matter_plugin).disable("inline")


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


def embed_line(base: str) -> re.Pattern:
    """An embed of a figure named for a note called `base`: `<base>-<path id>-cell<N>.png` (or the older `<base>-cell<N>.png`)."""
    return re.compile(r"!\[\[(" + re.escape(base) + r"(?:-[0-9a-f]{8})?-cell\d+(?:-\d+)?\.png)\]\]")


def _output_block(token, lines: list[str], at: int, prefix: str) -> bool:
    return (token is not None and token.map[0] == at and token.info.strip() in OUTPUT_INFOS
            and _container_prefix(lines[at], token.markup) == prefix
            and _is_closed(lines, *token.map, token.markup))


def parse_cells(text: str, base: str) -> list[Cell]:
    """The note's code cells with their generated tails; UserError for a cell never closed.

    `base` is the start of the note's figure names (see `embed_line`).
    """
    lines = split_lines(text)
    fences = [t for t in _markdown().parse(text) if t.type == "fence" and t.map]
    embed = embed_line(base)
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
        # Execute Code's persistent output puts an `output` block right after the cell, before ours.
        following = k + 1
        while following < len(fences) and _output_block(fences[following], lines, cell.tail_end, prefix):
            cell.output = fences[following].content.rstrip("\n")
            cell.tail_end = fences[following].map[1]
            following += 1
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
    """Indices of the cells to run, in order (see the package docstring for why)."""
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
        lines.append(f"{p}{fence}{OUTPUT_INFO}")
        lines += [p + line if line else p.rstrip() for line in result.output.split("\n")]
        lines.append(p + fence)
    if result.status == CellStatus.OK:
        lines.append(f"{p}{HASH_MARK} {cell.hash} %%")
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
