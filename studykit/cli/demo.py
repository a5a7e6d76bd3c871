"""`studykit demo [DIR]`: a ready-to-open Obsidian vault built from the project's own sample paper.

Offline: it generates the sample PDF, imports it (paper note, legend, shape diagrams),
writes the learning guide and the dashboard, and runs the paper note's code cells. Running
it again changes nothing; the reader's edits in the vault are kept.
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_PDF = "vit-sample.pdf"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "demo",
        help="build a demo Obsidian vault from a sample ViT paper (offline)",
        description="Build (or refresh) an Obsidian vault with a sample ViT paper, its annotated PDF, the paper "
                    "note with Eq.1-Eq.4 linked to runnable code, the colour-code legend, the learning guide "
                    "and a dashboard.",
    )
    p.add_argument("vault", nargs="?", type=Path, default=Path("DemoVault"), metavar="DIR",
                   help="vault folder to create or refresh (default: ./DemoVault)")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    from studykit import demo_pdf, guide, notes
    from studykit.sources.pdf import read_pdf
    from vault_export.sync import record_note

    ws = notes.open_workspace(args.vault)
    say = _status_printer(sys.stderr)

    say("sample paper")
    pdf = ws.vault.folder(ws.config.papers_folder) / "pdfs" / SAMPLE_PDF
    demo_pdf.write_pdf(pdf)
    paper = read_pdf(pdf)

    say("paper note, legend and shape diagrams")
    [(_, note)] = notes.write_papers(ws, [paper])
    for conflict in note.conflicts:
        print(f"kept for you: {conflict}", file=sys.stderr)

    say("learning guide and dashboard")
    extra = guide.write_demo_notes(ws.root)
    if guide.cards_beside_exercises(extra[0][0]):
        print(guide.MIXED_DECK_HINT.format(path=extra[0][0]), file=sys.stderr)

    say("running the paper note's code cells")
    failed = _run_cells(note.path)
    record_note(ws.vault, paper.id, note.path)  # the outputs are part of the note studykit wrote

    root = ws.root.resolve()
    legend = ws.vault.find_by_id(notes.LEGEND_ID)
    print(f"Demo vault ready: {root}")
    rows = [(note.path, "the paper note: highlights by colour, Eq.1-Eq.4 with their code and runnable cells"),
            (legend, "the highlight colour code"), *extra]
    for path, what in rows:
        if path:
            print(f"  {ws.vault.link(path):<60} {what}")
    print(f"Open it in Obsidian: \"Open folder as vault\" -> {root}, then open {ws.vault.link(note.path)}.")
    print("Run it again at any time: what you write in the vault is kept.")
    return 1 if failed else 0


def _status_printer(stream):
    def say(step: str) -> None:
        print(f"studykit demo: {step}...", file=stream, flush=True)
    return say


def _run_cells(note_path: Path) -> bool:
    """Run the note's ```python run cells (cached: a re-run changes nothing); True when one failed."""
    import sys

    from studykit.cells import run_note

    report = run_note(note_path, timeout=120)
    bad = [r for r in report.results if r.status in ("error", "timeout")]
    for result in bad:
        print(f"cell {result.index} (line {result.line}): {result.status}", file=sys.stderr)
    return bool(bad)
