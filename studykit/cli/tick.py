"""`studykit tick NOTE "task text"`: mark one task done, with the Tasks plugin's done date."""

from __future__ import annotations

from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "tick", help="mark a task of a note done (adds ✅ YYYY-MM-DD)",
        description="Find the task of NOTE whose text is, or contains, TEXT; mark it [x] and add the Tasks "
                    "plugin's done date. Nothing else in the note changes.",
    )
    p.add_argument("note", type=Path, metavar="NOTE", help="the note's file (.md may be left off)")
    p.add_argument("text", metavar="TEXT", help="the task's text, or a part of it that only it has")
    p.set_defaults(func=run)


def run(args) -> int:
    from studykit.checklist import tick

    note = args.note
    if not note.exists() and note.suffix != ".md":
        note = note.with_name(note.name + ".md")
    item, changed = tick(note, args.text)
    state = "ticked" if changed else "already done"
    print(f"{state}: {note}:{item.line + 1}  {item.title}")
    return 0
