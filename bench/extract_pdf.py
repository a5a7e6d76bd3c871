"""Benchmark: studykit's PDF annotation extraction against pdfannots, on the same files.

In-process (one table per corpus): a generated 300-page two-column PDF with 3,000 highlights
(written to bench/out/), the pdfannots corpus and the real-world corpus (../shared/corpus or
$STUDYKIT_CORPUS) when present. Both tools run in this process with their imports done before any
timing; each gets one untimed warm-up pass over the first file, then `--repeat` timed passes over
all files, alternating between the tools so that load from other processes falls on both alike.
Reported: the median pass in wall-clock seconds and in CPU seconds of this process (steadier on a
shared machine; the ratio is taken on it), pages/s and annotations/s (CPU), the speed ratio, and how
many texts agree between the two tools (and which not). studykit has two rows: "studykit" reads
what the texts need (every annotation, its text, place, id and colour, no picture drawn:
read_pdf(pictures=False)), "+pictures" also draws the PNG of each area and ink mark, as the
`annotations` and `import` commands do. A last row, "floor", times only opening the files and
building the text of the pages read: the bound for any reader built on PyMuPDF's text extraction;
studykit's CPU time over the floor's is printed for both rows (goal: at most 2x on every corpus).

Whole processes, what a user waits for (wall-clock, median of `--repeat`):
- start-up: `studykit annotations ONE_PAGE.pdf --json` against `python -c "import pymupdf"`, with
  PyMuPDF's layout add-on and without it (goal: at most 60 ms above the second);
- batch: one `studykit annotations --json` invocation over both corpora against one `pdfannots`
  invocation over the same files (goal: at least 5x faster);
- one file per process over the same files: total and median per file (goals: total below
  pdfannots', median at most 0.3 s).
Files either tool cannot read (encrypted, broken, an exception in pdfannots) are left out of both
tools' rows, and their number is printed.

    python bench/extract_pdf.py [--pages 300] [--per-page 10] [--repeat 3] [--skip-processes]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
WORDS = ("vision transformer patch embedding attention head layer norm residual token class position "
         "image sequence linear projection encoder pretraining dataset accuracy inductive bias "
         "convolution receptive field scaling compute resolution fine-tuning").split()


def generate(path: Path, pages: int, per_page: int) -> None:
    """A two-column paper: 2 x 38 lines a page, `per_page` highlights spread over both columns."""
    import pymupdf

    rng = random.Random(0)
    doc = pymupdf.open()
    for _ in range(pages):
        page = doc.new_page()  # Letter
        for col_x in (54, 318):
            for i in range(38):
                line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 7)))
                page.insert_text((col_x, 72 + 17 * i), line[:48], fontsize=9)
        words = page.get_text("words")  # (x0, y0, x1, y1, word, block, line, wordno)
        lines: dict[tuple[int, int], list] = {}
        for w in words:
            lines.setdefault((w[5], w[6]), []).append(w)
        for key in rng.sample(sorted(lines), per_page):
            ws = lines[key]
            a, b = sorted(rng.sample(range(len(ws)), 2))
            rect = pymupdf.Rect(ws[a][:4]) | pymupdf.Rect(ws[b][:4])
            page.add_highlight_annot(rect).update()
    doc.save(path, garbage=1, deflate=True)
    doc.close()


def run_studykit(files: list[Path]) -> list[tuple[int, str]]:
    """What a reader of the annotations' texts waits for: every annotation read, placed and worded,
    but no picture drawn (read_pdf(pictures=False))."""
    from studykit.sources.pdf import read_pdf

    return [(a.page, a.text) for f in files for a in read_pdf(f, pictures=False).annotations if a.text]


def run_studykit_pictures(files: list[Path]) -> list[tuple[int, str]]:
    """As `run_studykit`, and each area and ink mark's PNG drawn too (what `studykit import` and
    `studykit annotations` do)."""
    from studykit.sources.pdf import read_pdf

    return [(a.page, a.text) for f in files for a in read_pdf(f).annotations if a.text]


def run_pdfannots(files: list[Path]) -> list[tuple[int, str]]:
    from pdfannots import process_file

    result = []
    for f in files:
        with f.open("rb") as handle:
            doc = process_file(handle)
        for a in doc.iter_annots(include_replies=True):
            text = a.gettext(remove_hyphens=True)
            if text:
                result.append((a.pos.page.pageno + 1, text))
    return result


def run_floor(files: list[Path]) -> list:
    """Only what any PyMuPDF reader of these annotations must do: open each file and build the text
    of the pages pdfannots reads too (those with annotations; studykit adds page 1 for metadata)."""
    import pymupdf

    from studykit.sources.pdf_layout import page_textpage  # the same text page studykit builds

    for f in files:
        with pymupdf.open(f) as doc:
            for page in doc:
                if page.number == 0 or page.first_annot:
                    page_textpage(page)
    return []


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    for curly, straight in {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"}.items():
        text = text.replace(curly, straight)
    return " ".join(text.split())


def timed(tools: dict, files: list[Path], repeat: int) -> dict:
    """name -> (median wall s, median CPU s, output) of `repeat` alternating passes, after a warm-up each."""
    for fn in tools.values():
        fn(files[:1])
    wall: dict[str, list[float]] = {name: [] for name in tools}
    cpu: dict[str, list[float]] = {name: [] for name in tools}
    out = {}
    for _ in range(repeat):
        for name, fn in tools.items():
            w, c = time.perf_counter(), time.process_time()
            out[name] = fn(files)
            wall[name].append(time.perf_counter() - w)
            cpu[name].append(time.process_time() - c)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name]), out[name]) for name in tools}


def measure(label: str, files: list[Path], repeat: int) -> None:
    import pdfannots  # noqa: F401  (imports stay out of the timings)
    import pymupdf

    import studykit.sources.pdf  # noqa: F401

    pages = sum(pymupdf.open(f).page_count for f in files)
    annots = sum(1 for f in files for p in pymupdf.open(f) for _ in p.annots())
    result = timed({"studykit": run_studykit, "+pictures": run_studykit_pictures, "pdfannots": run_pdfannots,
                    "floor": run_floor}, files, repeat)
    print(f"\n{label}: {len(files)} file(s), {pages} pages, {annots} annotations; median of {repeat} passes")
    print(f"  {'tool':<10} {'wall s':>8} {'CPU s':>8} {'pages/s':>9} {'annots/s':>10}")
    for name, (wall, cpu, _) in result.items():
        print(f"  {name:<10} {wall:8.3f} {cpu:8.3f} {pages / cpu:9.1f} {annots / cpu:10.1f}")
    print("  (studykit: texts, places and ids, no picture drawn; +pictures: the same with the PNG of each area "
          "and ink mark drawn, as `annotations` and `import` do)")
    (w_ours, c_ours, ours), (w_peer, c_peer, peer) = result["studykit"], result["pdfannots"]
    print(f"  studykit is {c_peer / c_ours:.1f}x faster (CPU time; {w_peer / w_ours:.1f}x wall-clock); "
          f"the floor (PyMuPDF opening the files and building their pages' text) is {c_peer / result['floor'][1]:.1f}x")
    print(f"  studykit / floor: {c_ours / result['floor'][1]:.2f}x CPU (goal: at most 2x); "
          f"with pictures drawn: {result['+pictures'][1] / result['floor'][1]:.2f}x")
    a = Counter((p, norm(t)) for p, t in ours)
    b = Counter((p, norm(t)) for p, t in peer)
    only_ours, only_peer = a - b, b - a
    print(f"  texts: {sum((a & b).values())} agree; {sum(a.values())} studykit, {sum(b.values())} pdfannots; "
          f"{sum(only_ours.values())} only in studykit, {sum(only_peer.values())} only in pdfannots")
    for name, only in (("studykit", only_ours), ("pdfannots", only_peer)):
        for page, text in sorted(only)[:6]:
            print(f"    only {name:<9} p{page}: {text[:90]!r}")


# ---------------------------------------------------------------- whole processes

KEEP_LAYOUT_OUT = ("import sys; sys.modules['pymupdf.layout'] = sys.modules['pymupdf4llm'] = None; "
                   "import pymupdf")


def wall(cmd: list[str]) -> float:
    """Seconds one run of `cmd` takes; a failed run is an error, not a fast result."""
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:6])} ... failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return seconds


def median_wall(cmd: list[str], repeat: int) -> float:
    wall(cmd)  # warm the file cache
    return statistics.median(wall(cmd) for _ in range(repeat))


def one_page_pdf(path: Path) -> Path:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "An image is worth 16x16 words", fontsize=11)
    page.add_highlight_annot(page.search_for("16x16 words")).update()
    doc.save(path)
    doc.close()
    return path


def readable_by_pdfannots(files: list[Path]) -> list[Path]:
    ok = []
    for f in files:
        try:
            run_pdfannots([f])
        except Exception:  # noqa: BLE001  (pdfannots' own failures: the file is left out of both rows)
            continue
        ok.append(f)
    return ok


def processes(files: list[Path], repeat: int) -> None:
    studykit = [sys.executable, "-m", "studykit", "annotations", "--json"]
    pdfannots = [sys.executable, "-m", "pdfannots"]  # Markdown: its JSON takes one file only
    one = one_page_pdf(OUT / "one_page.pdf")
    rows = {
        'python -c "import pymupdf"': median_wall([sys.executable, "-c", "import pymupdf"], repeat * 3),
        "... with pymupdf.layout kept out": median_wall([sys.executable, "-c", KEEP_LAYOUT_OUT], repeat * 3),
        "studykit annotations ONE_PAGE --json": median_wall([*studykit, str(one)], repeat * 3),
        "pdfannots ONE_PAGE": median_wall([*pdfannots, str(one)], repeat * 3),
    }
    print(f"\nstart-up, a fresh process on one page (median wall s of {repeat * 3})")
    for name, seconds in rows.items():
        print(f"  {name:<40} {seconds:7.3f}")
    over = rows["studykit annotations ONE_PAGE --json"] - rows["... with pymupdf.layout kept out"]
    print(f"  studykit above PyMuPDF's own import: {over * 1000:.0f} ms (goal: at most 60 ms)")

    readable = files
    print(f"\nwhole processes over the {len(readable)} files of both corpora read above")
    ours = median_wall([*studykit, *map(str, readable)], repeat)
    peer = median_wall([*pdfannots, *map(str, readable)], repeat)
    print(f"  batch, one invocation: studykit {ours:.2f} s, pdfannots {peer:.2f} s: "
          f"studykit is {peer / ours:.1f}x faster (goal: at least 5x)")
    each_ours = [wall([*studykit, str(f)]) for f in readable]
    each_peer = [wall([*pdfannots, str(f)]) for f in readable]
    print(f"  one file per process: studykit total {sum(each_ours):.2f} s, median {statistics.median(each_ours):.3f} s; "
          f"pdfannots total {sum(each_peer):.2f} s, median {statistics.median(each_peer):.3f} s "
          f"(goals: total below pdfannots', median at most 0.3 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--per-page", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per tool; the median is reported")
    parser.add_argument("--skip-processes", action="store_true", help="only the in-process tables")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    big = OUT / f"two_column_{args.pages}p.pdf"
    if not big.exists():
        generate(big, args.pages, args.per_page)
    measure(f"generated two-column ({big.name})", [big], args.repeat)
    root = Path(os.environ.get("STUDYKIT_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus")
    corpora = {name: sorted((root / name).glob("*.pdf")) for name in ("pdfannots", "realworld")}
    if not any(corpora.values()):
        print(f"\n(corpora not found under {root}: skipped)")
        return
    opened = {name: readable_by_pdfannots([f for f in files if _opens(f)]) for name, files in corpora.items()}
    for name, files in opened.items():
        if files:
            measure(f"{name} corpus ({len(corpora[name]) - len(files)} files left out: encrypted, broken, "
                    f"or pdfannots cannot read them)", files, args.repeat)
    if not args.skip_processes:
        processes([f for files in opened.values() for f in files], args.repeat)


def _opens(path: Path) -> bool:
    """Whether studykit reads the file without a password (the corpus also holds broken and encrypted ones)."""
    from studykit.errors import UserError
    from studykit.sources.pdf import read_pdf

    try:
        read_pdf(path)
    except UserError:
        return False
    return True


if __name__ == "__main__":
    main()
