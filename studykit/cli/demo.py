"""`studykit demo [DIR]`: a ready-to-open Obsidian vault built from the project's own sample papers.

Offline: it generates the sample PDFs (ViT and Swin), imports them (paper notes, legend, shape
diagrams and pictures from each paper's registry), writes the learning guide and the dashboard,
and runs the paper notes' code cells. Running
it again changes nothing; the reader's edits in the vault are kept.
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_PDFS = {"2010.11929": "vit-sample.pdf", "2103.14030": "swin-sample.pdf"}  # arXiv id -> file


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "demo",
        help="build a demo Obsidian vault from sample ViT and Swin papers (offline)",
        description="Build (or refresh) an Obsidian vault with sample ViT and Swin papers, their annotated PDFs, "
                    "paper notes with Eq.1-Eq.4 linked to runnable code, the colour-code legend, the learning "
                    "guide and a dashboard.",
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

    say("sample papers")
    papers = []
    for sample in demo_pdf.SAMPLES:
        pdf = ws.vault.folder(ws.config.papers_folder) / "pdfs" / SAMPLE_PDFS[sample.arxiv]
        demo_pdf.write_pdf(pdf, sample)
        papers.append(read_pdf(pdf))

    say("paper notes, legend, shape diagrams and pictures")
    written = notes.write_papers(ws, papers)
    for _, note in written:
        for conflict in note.conflicts:
            print(f"kept for you: {conflict}", file=sys.stderr)

    say("learning guide and dashboard")
    extra = guide.write_demo_notes(ws.root)
    if guide.cards_beside_exercises(extra[0][0]):
        print(guide.MIXED_DECK_HINT.format(path=extra[0][0]), file=sys.stderr)

    say("running the paper notes' code cells")
    failed = False
    for paper, note in written:
        failed |= _run_cells(note.path)
        record_note(ws.vault, paper.id, note.path)  # the outputs are part of the note studykit wrote

    root = ws.root.resolve()
    legend = ws.vault.find_by_id(notes.LEGEND_ID)
    print(f"Demo vault ready: {root}")
    rows = [(note.path, f"the paper note of {paper.title.split(':')[0]}: highlights by colour, Eq.1-Eq.4 with their "
                        "code and runnable cells") for paper, note in written]
    rows += [(legend, "the highlight colour code"), *extra]
    for path, what in rows:
        if path:
            print(f"  {ws.vault.link(path):<60} {what}")
    print(f"Open it in Obsidian: \"Open folder as vault\" -> {root}, then open {ws.vault.link(written[0][1].path)}.")
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
