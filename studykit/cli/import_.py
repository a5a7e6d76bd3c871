"""`studykit import PDF... --vault DIR`: one paper note per PDF, merged into the vault."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "import",
        help="write a paper note for each PDF into an Obsidian vault",
        description="Read each PDF's annotations and write (or refresh) its paper note in the vault. "
                    "Text you wrote outside studykit's regions is never touched. A PDF that cannot be "
                    "read gets one line on stderr, the others are still imported, and the exit status is 2.",
    )
    p.add_argument("pdfs", nargs="+", type=Path, metavar="PDF", help="annotated PDF files")
    add_write_options(p)
    p.add_argument("--password", help="password of an encrypted PDF")
    p.set_defaults(func=run)


def add_write_options(p) -> None:
    """--vault, --dry-run, --json, --force, --wait: shared by import and sync."""
    p.add_argument("--vault", type=Path, required=True, metavar="DIR", help="the Obsidian vault folder")
    p.add_argument("--dry-run", action="store_true", help="print the diff of what would change and write nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object per note")
    p.add_argument("--force", action="store_true", help="overwrite studykit's regions even where you edited them")
    p.add_argument("--wait", type=_seconds, default=120.0, metavar="SECONDS",
                   help="how long to wait while another studykit writes into the vault (default 120; 0: do not wait)")


def _seconds(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 or more)")
    return value


def run(args) -> int:
    from studykit import notes
    from studykit.errors import require_file

    for pdf in args.pdfs:  # before the vault is made or any PDF read: a mistyped name fails at once
        require_file(pdf)
    with no_empty_vault_left(args.vault):
        ws = notes.open_workspace(args.vault, lock_wait=args.wait)
        papers, status = read_papers(args.pdfs, args.password)
        results = notes.write_papers(ws, papers, dry_run=args.dry_run, force=args.force)
        return report(ws, results, args) or status


def read_papers(pdfs: list[Path], password: str | None) -> tuple[list, int]:
    """The papers of the PDFs that can be read, and 2 if any cannot (0 if all can).

    Each PDF that cannot be read gets one error line on stderr, so one broken file does not stop
    the import of the others; a single PDF's error is the command's.
    """
    import sys

    from studykit.errors import UserError
    from studykit.sources.pdf import read_pdf

    papers, status = [], 0
    for pdf in pdfs:
        try:
            papers.append(read_pdf(pdf, password=password))
        except UserError as exc:
            if len(pdfs) == 1:
                raise
            print(f"studykit: error: {exc}", file=sys.stderr)
            status = exc.code
    return papers, status


@contextmanager
def no_empty_vault_left(vault: Path):
    """The folders a run makes for a new vault are taken away again when nothing was written into
    them: bad input or a dry run leaves nothing behind, not even an empty folder."""
    top = Path(vault).expanduser().absolute()
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    made = not top.exists()
    try:
        yield
    finally:
        if made and top.is_dir():
            for folder, _, _ in os.walk(top, topdown=False):
                try:
                    os.rmdir(folder)
                except OSError:  # it holds what the run wrote
                    pass


def report(ws, results, args) -> int:
    """Print what happened to each note (a diff in a dry run), then the summary line."""
    import json
    import sys

    from studykit import notes

    counts = notes.summary(results)
    if args.json:
        for paper, result in results:
            print(json.dumps({
                "id": paper.id, "title": paper.title, "path": ws.vault.link(result.path), "status": result.status,
                "conflicts": result.conflicts, "annotations": len(paper.annotations),
                **({"diff": result.diff} if args.dry_run else {}),
            }, ensure_ascii=False))
        return 0
    for paper, result in results:
        if args.dry_run and result.diff:
            sys.stdout.write(result.diff)
        verb = f"would be {result.status}" if args.dry_run and result.status != "unchanged" else result.status
        print(f"{verb:>20}  {ws.vault.link(result.path)}  ({len(paper.annotations)} annotations)")
        for conflict in result.conflicts:
            print(f"{'':>22}kept for you: {conflict}")
    dry = " (dry run: nothing written)" if args.dry_run else ""
    print(f"{counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged, "
          f"{counts['conflict']} conflicts{dry}")
    return 0
