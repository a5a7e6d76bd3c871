"""The `studykit` command: parses arguments and hands them to the module of each sub-command.

Each sub-command lives in `studykit/cli/<name>.py` with `add_parser(subparsers)`, which sets
`func`. Those modules import only the standard library at the top, so `studykit --help` and
the commands that need no torch start fast; heavy imports sit inside the `func`s.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from studykit import __version__
from studykit.errors import UserError

# Order is the order of `studykit --help`.
COMMANDS = [
    "demo", "annotations", "import_", "sync", "run", "progress", "tick", "guide",
    "check", "shapes", "train", "attention",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studykit",
        description="Paper-study toolkit: annotations -> Obsidian notes, equations -> runnable ViT modules.",
    )
    parser.add_argument("--version", action="version", version=f"studykit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"studykit.cli.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"studykit: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("studykit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
