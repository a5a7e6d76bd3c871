"""`studykit guide --vault DIR`: write each installed paper's learning guide (and flashcards) into the vault."""

from __future__ import annotations

from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "guide", help="write the learning guide notes (stages, exercises, flashcards, log) into the vault",
        description="Create the learning guide note once. Run again, it refreshes only the shape walk-throughs "
                    "(managed regions): your ticks, flashcard reviews and learning log are left alone.",
    )
    p.add_argument("--vault", type=Path, default=Path("."), help="the vault's folder (default: here)")
    p.add_argument("--paper", metavar="ARXIV", help="only this paper's guide (e.g. 2010.11929); default: every installed paper's")
    p.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    from studykit.errors import UserError
    from studykit.guide import MIXED_DECK_HINT, cards_beside_exercises, stages, write_guide

    if not args.vault.is_dir():
        raise UserError(f"{args.vault}: not a folder (give the vault's folder)")
    for arxiv in [args.paper] if args.paper else stages():
        result = write_guide(args.vault, arxiv=arxiv, dry_run=args.dry_run)
        if args.dry_run and result.diff:
            print(result.diff, end="")
        for conflict in result.conflicts:
            print(f"kept: {conflict}")
        print(f"{result.status}{' (dry run)' if args.dry_run else ''}: {result.path}")
        if cards_beside_exercises(result.path):
            print(MIXED_DECK_HINT.format(path=result.path), file=sys.stderr)
    return 0
