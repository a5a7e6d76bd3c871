"""`studykit annotations SOURCE...`: list papers' annotations, grouped by colour category."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "annotations",
        help="list the annotations of PDFs or Zotero items, grouped by category",
        description="Print the annotations of each SOURCE in reading order, grouped by the colour code. "
                    "With --json, one line per SOURCE holding a JSON list of its annotations (with one "
                    "SOURCE, that line is the whole output); a SOURCE that cannot be read gets one line "
                    "on stderr instead, the others are still listed, and the exit status is 2.",
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="a PDF file, or zotero:KEY (an item or attachment key)")
    p.add_argument("--json", action="store_true", help="print one JSON list per SOURCE instead of a table")
    p.add_argument("--password", help="password of an encrypted PDF")
    p.add_argument("--zotero-data-dir", type=Path, metavar="DIR",
                   help="read zotero.sqlite in DIR (for example ~/Zotero) instead of the Zotero API")
    p.add_argument("--web", action="store_true",
                   help="use the Zotero web API (ZOTERO_LIBRARY_ID, ZOTERO_LIBRARY_TYPE, ZOTERO_API_KEY) "
                        "instead of the local API of a running Zotero 7")
    p.add_argument("--vault", type=Path, metavar="DIR", help="vault whose studykit.toml sets the colour code")
    p.set_defaults(func=run)


def run(args) -> int:
    from studykit.config import load_config
    from studykit.errors import UserError
    from studykit.sources import read_source
    from studykit.taxonomy import Taxonomy

    taxonomy = Taxonomy.from_config(load_config(args.vault))
    status = 0
    for source in args.sources:
        try:
            papers = read_source(source, password=args.password, zotero_data_dir=args.zotero_data_dir, web=args.web)
        except UserError as exc:
            if len(args.sources) == 1:
                raise
            print(f"studykit: error: {exc}", file=sys.stderr)
            status = exc.code
            continue
        papers = [taxonomy.classify(p) for p in papers]
        for warning in (w for p in papers for w in p.warnings):
            print(f"studykit: warning: {warning}", file=sys.stderr)
        if args.json:
            rows = [{**a.to_json(), "paper": p.id, "source": source} for p in papers for a in p.annotations]
            sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        else:
            _print_table(papers, taxonomy)
        sys.stdout.flush()
    return status


def _print_table(papers, taxonomy) -> None:
    from rich.console import Console
    from rich.table import Table

    from studykit.model import Category

    console = Console()
    for paper in papers:
        title = paper.title or (paper.pdf_path.name if paper.pdf_path else paper.id)
        console.print(f"[bold]{title}[/bold]  ({len(paper.annotations)} annotations)")
        if not paper.annotations:
            continue
        for category in list(Category):
            group = [a for a in paper.annotations if a.category == category]
            if not group:
                continue
            info = taxonomy.info(category)
            name = info.name if info else "未分类 Uncategorized"
            table = Table(title=f"{name} ({len(group)})", title_justify="left",
                          title_style=f"bold {info.color}" if info else "bold")
            table.add_column("page", justify="right")
            table.add_column("kind")
            table.add_column("text")
            table.add_column("comment")
            table.add_column("colour")
            for a in group:
                swatch = f"[{a.color}]■[/] {a.color}" if a.color else ""
                kind = f"{a.kind} ({a.kind_label})" if a.kind_label else a.kind
                table.add_row(a.page_label or str(a.page), kind, a.text, a.thread() or a.notice, swatch)
            console.print(table)
