"""Benchmark: `studykit sync` of a 1,000-paper Zotero library into a vault.

The library comes from tests/zotero_fixture.py (a real zotero.sqlite, 40 annotations per
paper). Three runs, each the whole of `studykit sync --zotero-data-dir` in this process:
a first sync into an empty vault, a re-sync with nothing changed (it must write no file:
checked by bytes and mtimes), a re-sync after 1% of the papers got a new comment (written
straight into the database, without the dateModified bump Zotero would add), the unchanged re-sync
while Zotero holds the database, one after an Obsidian setting changed (.obsidian/app.json: every
item read and rendered, no note merged), and, as the peer, the unchanged re-sync again without
.studykit/notes.json (the notes' records): the full path that reads, renders and merges every item.
Each row gives wall-clock and CPU seconds (the CPU time of this process, less sensitive to a busy
machine). Goals: first sync <= 20 ms per paper; unchanged re-sync <= 10% of the first.

    python bench/vault_sync.py [--papers 1000] [--annotations 40] [--out bench/out/vault_sync]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from studykit.cli import main  # noqa: E402
from zotero_fixture import build_library  # noqa: E402


def files(vault: Path) -> dict:
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in vault.rglob("*") if p.is_file()}


def sync(vault: Path, data: Path) -> tuple[tuple[float, float], str]:
    """(wall seconds, CPU seconds) of one `studykit sync`, and its summary line."""
    out = io.StringIO()
    start, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(out):
        code = main(["sync", "--vault", str(vault), "--zotero-data-dir", str(data)])
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    if code != 0:
        raise SystemExit(f"sync failed with exit {code}")
    return elapsed, out.getvalue().strip().splitlines()[-1]


def sync_while_zotero_runs(vault: Path, data: Path) -> tuple[tuple[float, float], str, float]:
    """The unchanged re-sync with Zotero 10 holding the database (WAL mode, exclusive lock) and a
    commit studykit does not read waiting in zotero.sqlite-wal: it reads a private snapshot copy.
    Returns its time, its summary and the time of the snapshot copy alone."""
    from studykit.sources.zotero_snapshot import snapshot
    from zotero_fixture import ZoteroRunning

    with ZoteroRunning(data) as zotero:
        zotero.conn.execute("UPDATE libraries SET lastSync = lastSync + 1")  # as a sync with zotero.org does
        start = time.perf_counter()
        with snapshot(data / "zotero.sqlite"):
            copy = time.perf_counter() - start
        seconds, line = sync(vault, data)
    return seconds, line, copy


def change_papers(data: Path, fraction: float) -> int:
    """Give one annotation of every 1/fraction-th paper a new comment, as the reader would in Zotero."""
    with sqlite3.connect(data / "zotero.sqlite") as db:
        attachments = [r[0] for r in db.execute(
            "SELECT DISTINCT parentItemID FROM itemAnnotations ORDER BY parentItemID")]
        step = max(1, round(1 / fraction))
        chosen = attachments[::step]
        for attachment in chosen:
            db.execute("UPDATE itemAnnotations SET comment = comment || ' (revised)' WHERE itemID = "
                       "(SELECT MIN(itemID) FROM itemAnnotations WHERE parentItemID = ?)", (attachment,))
    return len(chosen)


def main_() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--annotations", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "vault_sync")
    args = parser.parse_args()

    shutil.rmtree(args.out, ignore_errors=True)
    data, vault = args.out / "Zotero", args.out / "vault"
    t = time.perf_counter()
    build_library(data, n_papers=args.papers, annotations_per_paper=args.annotations)
    print(f"library: {args.papers} papers x {args.annotations} annotations, built in {time.perf_counter() - t:.1f} s")

    first, first_line = sync(vault, data)
    before = files(vault)
    unchanged, unchanged_line = sync(vault, data)
    after = files(vault)
    written = sum(1 for p in after if before.get(p) != after[p]) + len(set(before) - set(after))
    changed_papers = change_papers(data, 0.01)
    changed, changed_line = sync(vault, data)
    running, running_line, copy = sync_while_zotero_runs(vault, data)
    (vault / ".obsidian").mkdir(exist_ok=True)
    (vault / ".obsidian" / "app.json").write_text("{}\n", encoding="utf-8")  # a setting that moves nothing
    setting, setting_line = sync(vault, data)
    (vault / ".studykit" / "notes.json").unlink()
    full, full_line = sync(vault, data)

    rows = [
        ("first sync", first, first_line),
        ("re-sync, nothing changed", unchanged, unchanged_line),
        (f"re-sync, {changed_papers} papers changed", changed, changed_line),
        (f"re-sync, nothing changed, Zotero 10 running (WAL snapshot copy {1000 * copy:.0f} ms)",
         running, running_line),
        ("re-sync after an Obsidian setting changed (every item rendered, none merged)", setting, setting_line),
        ("re-sync, nothing changed, no records (full path)", full, full_line),
    ]
    print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs")
    print("\n| run | total (s) | CPU (s) | ms per paper | vs first | summary |\n|---|---:|---:|---:|---:|---|")
    for name, (seconds, cpu), line in rows:
        print(f"| {name} | {seconds:.2f} | {cpu:.2f} | {1000 * seconds / args.papers:.1f} | {seconds / first[0]:.2f} "
              f"| {line} |")
    first, unchanged = first[0], unchanged[0]  # the goals are on wall-clock time
    print(f"\nfiles written by the unchanged re-sync: {written} (must be 0)")
    goals = [
        (f"first sync <= 20 ms per paper: {1000 * first / args.papers:.1f} ms", first / args.papers <= 0.020),
        (f"unchanged re-sync <= 10% of first: {100 * unchanged / first:.0f}%", unchanged <= 0.10 * first),
        ("unchanged re-sync writes no file", written == 0),
    ]
    for text, ok in goals:
        print(f"{'met' if ok else 'MISSED'}: {text}")
    return 0 if written == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main_())
