"""`studykit annotations SOURCE`: list a paper's annotations, grouped by colour category."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "annotations",
        help="list the annotations of a PDF or a Zotero item, grouped by category",
        description="Print the annotations of SOURCE in reading order, grouped by the colour code.",
    )
    p.add_argument("source", metavar="SOURCE", help="a PDF file, or zotero:KEY (an item or attachment key)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
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
    from studykit.sources import read_source
    from studykit.taxonomy import Taxonomy

    taxonomy = Taxonomy.from_config(load_config(args.vault))
    papers = read_source(args.source, password=args.password, zotero_data_dir=args.zotero_data_dir,
                         web=args.web, taxonomy=taxonomy)
    if args.json:
        rows = [{**a.to_json(), "paper": p.id} for p in papers for a in p.annotations]
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(papers, taxonomy)
    return 0


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
                table.add_row(a.page_label or str(a.page), a.kind, a.text, a.comment, swatch)
            console.print(table)
