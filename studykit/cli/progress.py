"""`studykit progress [VAULT]`: how far the reader is, across every task in the vault."""

from __future__ import annotations

import json
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "progress", help="count the vault's tasks per note and heading; --write the Dashboard note",
        description="Count every task (- [ ] todo, - [x] done, - [/] in progress, - [-] cancelled) in the vault's "
                    "notes, per note and heading. Each run records today's totals in .studykit/progress.jsonl.",
    )
    p.add_argument("vault", nargs="?", type=Path, default=Path("."), help="the vault's folder (default: here)")
    p.add_argument("--json", action="store_true", help="print the tree note -> heading -> counts as JSON")
    p.add_argument("--write", action="store_true", help="write the Dashboard note and its chart into the vault")
    p.set_defaults(func=run)


def run(args) -> int:
    from studykit.progress import collect, record, summarize, to_json, write_dashboard
    from vault_export.vault import Vault

    vault = Vault(args.vault)  # one index of the vault for the count and the Dashboard
    items = collect(args.vault, vault)
    totals, notes = summarize(items)
    result = write_dashboard(args.vault, items=items, v=vault) if args.write else None
    if result is None:
        record(args.vault, totals)  # write_dashboard records it too
    if args.json:
        print(json.dumps(to_json(totals, notes), ensure_ascii=False, indent=2))
    else:
        _print_table(totals, notes)
    if result is not None:
        print(f"dashboard {result.status}: {result.path}")
    return 0


def _print_table(totals, notes) -> None:
    from rich.console import Console
    from rich.table import Table

    from studykit.progress import bar

    table = Table(show_edge=False, box=None, pad_edge=False)
    table.add_column("note / heading", no_wrap=True, overflow="ellipsis", max_width=42)
    for col, justify in (("progress", "left"), ("%", "right"), ("done", "right"), ("open", "right")):
        table.add_column(col, justify=justify, no_wrap=True)

    def row(label, c, style=None):
        table.add_row(label, bar(c.percent, 12), f"{c.percent:.0f}", f"{c.done}/{c.total - c.cancelled}",
                      str(c.todo + c.in_progress), style=style)

    for n in notes:
        row(n.note, n.totals, "bold")
        for heading, c in n.headings.items():
            row("  " + heading, c)
    row("all notes", totals, "bold green")
    Console().print(table)
