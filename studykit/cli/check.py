"""`studykit check FILE.py`: grade the reader's own ViT modules against the reference."""

from __future__ import annotations

import json
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "check", help="grade your own PatchEmbed, MLP, Attention, Block, VisionTransformer against vit_impl",
        description="Import FILE.py in a subprocess, find its ViT modules by class name, and compare each with "
                    "the reference: output shape, parameter count, outputs and gradients. "
                    "Exit 0: all pass; 1: some fail; 2: the file does not import.",
    )
    p.add_argument("file", type=Path, metavar="FILE.py")
    p.add_argument("--module", action="append", default=[], metavar="CLASS=ROLE",
                   help="grade CLASS as ROLE (PatchEmbed, MLP, Attention, Block, VisionTransformer); repeatable")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--tick", type=Path, metavar="VAULT",
                   help="tick the [check:: NAME] tasks in VAULT for the modules that pass")
    p.add_argument("--timeout", type=float, default=120.0, metavar="S", help="stop after S seconds (default 120)")
    p.set_defaults(func=run)


def run(args) -> int:
    from studykit.check.report import format_report
    from studykit.check.runner import check_file, parse_mapping
    from studykit.check.spec import specs
    from studykit.checklist import tick_checks
    from studykit.errors import UserError

    if args.tick is not None and not args.tick.is_dir():
        raise UserError(f"{args.tick}: not a folder (--tick takes the vault's folder)")
    report = check_file(args.file, parse_mapping(args.module), timeout=args.timeout)
    ticked = []
    if args.tick is not None and report.passed:
        ticked = tick_checks(args.tick, report.passed, paper=report.paper)
    if args.json:
        data = report.to_json()
        data["ticked"] = [it.to_json() for it in ticked]
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(format_report(report, specs().get(report.paper)))
        for it in ticked:
            print(f"ticked {it.note}:{it.line + 1}  {it.title}")
    return report.exit_code
