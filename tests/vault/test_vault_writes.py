"""How studykit writes into a vault the reader keeps using: no lost save, no replaced note, one writer.

Unit cases at `write_note` (a save landing between read and rename, a note created after the
folder was listed, BOM, NFD, symlinked folders, temp files of killed writers) and the CLI
under real concurrency: an editor process saving every 50 ms during `import` and `sync`, two
syncs at once, kill -9 at random moments of a large sync.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pymupdf
import pytest

from simple_paper import make_pdf
from studykit.cli import main
from vault_export import Vault, frontmatter
from vault_export import sync as vsync
from vault_export.lock import vault_lock
from vault_export.regions import wrap
from vault_export.sync import write_note
from zotero_fixture import build_library, generate_papers

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def rendered(version: int) -> str:
    head = frontmatter.dump({"title": f"ViT v{version}", "tags": ["paper"]})
    summary = wrap("summary", f"generated v{version}\n")
    return f"---\n{head}---\n# ViT\n\n{summary}\n\n## My notes\n\n"


def test_a_save_between_read_and_rename_is_merged_not_lost(tmp_path, monkeypatch):
    path = write_note(Vault(tmp_path), "pdf:1", rendered(1), "ViT").path
    real, saves = vsync.merge_note, []

    def merge_while_the_reader_saves(existing, *args, **kwargs):
        if len(saves) < 2:  # two saves land while studykit merges: it must merge twice more
            saves.append(f"reader's save {len(saves)}\n")
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(saves[-1])
        return real(existing, *args, **kwargs)

    monkeypatch.setattr(vsync, "merge_note", merge_while_the_reader_saves)
    result = write_note(Vault(tmp_path), "pdf:1", rendered(2), "ViT")
    text = path.read_text(encoding="utf-8")
    assert result.status == "updated" and "generated v2" in text
    assert all(save in text for save in saves)


def test_a_reader_who_never_stops_saving_gets_a_conflict_and_keeps_every_save(tmp_path, monkeypatch):
    path = write_note(Vault(tmp_path), "pdf:1", rendered(1), "ViT").path
    real = vsync.merge_note

    def merge_while_the_reader_saves(existing, *args, **kwargs):
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("one more save\n")
        return real(existing, *args, **kwargs)

    monkeypatch.setattr(vsync, "merge_note", merge_while_the_reader_saves)
    result = write_note(Vault(tmp_path), "pdf:1", rendered(2), "ViT")
    assert (result.status, result.path, result.diff) == ("conflict", path, "")
    assert result.conflicts == ["Papers/ViT.md: changed 5 times while studykit was merging it; left as it is, run again"]
    assert path.read_text(encoding="utf-8").count("one more save\n") == vsync.ATTEMPTS


def test_a_note_created_after_the_folder_was_listed_is_not_replaced(tmp_path):
    vault = Vault(tmp_path)
    assert vault.new_note_path("ViT") == tmp_path / "Papers" / "ViT.md"  # the folder is listed now
    (tmp_path / "Papers").mkdir()
    (tmp_path / "Papers" / "ViT.md").write_text("my citation plugin's note\n", encoding="utf-8")
    result = write_note(vault, "pdf:1", rendered(1), "ViT")
    assert (tmp_path / "Papers" / "ViT.md").read_text(encoding="utf-8") == "my citation plugin's note\n"
    assert result.status == "created" and result.path == tmp_path / "Papers" / "ViT 2.md"


def test_a_note_created_meanwhile_in_a_chosen_folder_is_not_replaced(tmp_path):
    vault = Vault(tmp_path)
    assert vault.new_note_path("ViT", "Reading/2026") == tmp_path / "Reading" / "2026" / "ViT.md"
    (tmp_path / "Reading" / "2026").mkdir(parents=True)
    (tmp_path / "Reading" / "2026" / "ViT.md").write_text("mine\n", encoding="utf-8")
    result = write_note(vault, "pdf:1", rendered(1), "ViT", folder="Reading/2026")
    assert result.path == tmp_path / "Reading" / "2026" / "ViT 2.md" and not (tmp_path / "Papers").exists()
    assert (tmp_path / "Reading" / "2026" / "ViT.md").read_text(encoding="utf-8") == "mine\n"


def test_a_note_saved_with_a_bom_is_found_and_keeps_its_bom(tmp_path):
    path = write_note(Vault(tmp_path), "pdf:1", rendered(1), "ViT").path
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes() + b"mine\n")
    result = write_note(Vault(tmp_path), "pdf:1", rendered(2), "ViT")
    assert result.path == path and result.status == "updated"
    assert [p.name for p in (tmp_path / "Papers").iterdir()] == ["ViT.md"]
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf---\n") and b"generated v2" in data and data.endswith(b"mine\n")


def test_a_name_written_decomposed_gets_no_composed_twin(tmp_path):
    (tmp_path / "Papers").mkdir()
    nfd = unicodedata.normalize("NFD", "Müller 2020 - Vision.md")
    (tmp_path / "Papers" / nfd).write_text("the reader's note, named by macOS\n", encoding="utf-8")
    result = write_note(Vault(tmp_path), "pdf:1", rendered(1), unicodedata.normalize("NFC", "Müller 2020 - Vision"))
    assert result.path.name == "Müller 2020 - Vision 2.md"
    assert (tmp_path / "Papers" / nfd).read_text(encoding="utf-8") == "the reader's note, named by macOS\n"


def test_notes_in_a_symlinked_folder_are_found(tmp_path):
    real = tmp_path / "Dropbox" / "Papers"
    real.mkdir(parents=True)
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Papers").symlink_to(real, target_is_directory=True)
    (vault / "Loop").symlink_to(vault, target_is_directory=True)  # a loop must not hang the walk
    first = write_note(Vault(vault), "pdf:1", rendered(1), "ViT")
    again = write_note(Vault(vault), "pdf:1", rendered(2), "ViT")
    assert again.status == "updated" and again.path == first.path
    assert [p.name for p in real.iterdir()] == ["ViT.md"]


def dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, timeout=60).stdout)


def test_import_removes_the_temp_files_of_killed_writers_only(tmp_path, capsys):
    pdf = make_pdf(tmp_path / "a.pdf")
    vault = tmp_path / "vault"
    assert main(["import", str(pdf), "--vault", str(vault)]) == 0
    dead = dead_pid()
    leftovers = [vault / "Papers" / f".a.md.{dead}.0123abcd.studykit-tmp",
                 vault / ".studykit" / f".notes.json.{dead}.0123abcd.studykit-tmp",
                 vault / "Deep" / "er" / f".x.md.{dead}.0123abcd.studykit-tmp"]
    live = vault / "Papers" / f".a.md.{os.getppid()}.0123abcd.studykit-tmp"  # a writer still running
    for path in [*leftovers, live]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half a note")
    assert main(["import", str(pdf), "--vault", str(vault)]) == 0
    assert not any(p.exists() for p in leftovers) and live.exists()


# -- the vault lock --------------------------------------------------------------------------------

def studykit(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studykit", *map(str, args)], capture_output=True, text=True,
                          env=ENV, timeout=timeout)


def test_a_second_run_says_who_holds_the_vault(tmp_path):
    pdf = make_pdf(tmp_path / "a.pdf")
    vault = tmp_path / "vault"
    vault.mkdir()
    with vault_lock(vault, what="studykit sync"):
        busy = studykit("import", pdf, "--vault", vault, "--wait", "0.5")
    assert busy.returncode == 2
    lines = busy.stderr.strip().splitlines()
    assert lines[-1].startswith("studykit: ") and f"in use by pid {os.getpid()} studykit sync since" in lines[-1]
    assert "Traceback" not in busy.stderr and not list(vault.rglob("*.md"))
    assert not (vault / ".studykit" / "lock").exists()  # the holder removes it when done
    assert studykit("import", pdf, "--vault", vault, "--wait", "-1").returncode == 2


def test_a_second_run_waits_for_the_first(tmp_path):
    pdf = make_pdf(tmp_path / "a.pdf")
    vault = tmp_path / "vault"
    vault.mkdir()
    proc = None
    with vault_lock(vault, what="studykit sync"):
        proc = subprocess.Popen([sys.executable, "-m", "studykit", "import", str(pdf), "--vault", str(vault)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        time.sleep(2)
        assert proc.poll() is None and not list(vault.rglob("*.md"))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "1 created" in out
    assert f"is in use by pid {os.getpid()}" in err and "waiting for it to finish" in err


@pytest.mark.slow
def test_two_syncs_at_once_make_one_note_per_paper(tmp_path):
    data = build_library(tmp_path / "Zotero", n_papers=40, annotations_per_paper=5)
    vault = tmp_path / "vault"
    args = [sys.executable, "-m", "studykit", "sync", "--vault", str(vault), "--zotero-data-dir", str(data)]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    summaries = sorted(out.strip().splitlines()[-1] for out, _ in outs)
    assert summaries == ["0 created, 0 updated, 40 unchanged, 0 conflicts", "40 created, 0 updated, 0 unchanged, 0 conflicts"]
    ids = [frontmatter.read_key(frontmatter.split(p.read_text(encoding="utf-8")).yaml, "studykit-id")
           for p in vault.rglob("*.md")]
    assert len(ids) == 41 and len(set(ids)) == 41  # 40 papers and the legend, each once


# -- an editor saving while studykit writes ----------------------------------------------------------

EDITOR = r"""
import os, signal, sys, time
path, interval, count = sys.argv[1], float(sys.argv[2]), sys.argv[3]
stop = False
def halt(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, halt)
n = 0
print("ready", flush=True)
while not stop:
    with open(path, "rb") as handle:
        text = handle.read()
    text += b"- editor save %d\n" % n
    if n % 2:  # as editors that save in place do
        with open(path, "r+b") as handle:
            handle.write(text)
            handle.truncate()
    else:  # as editors that save to a new file and rename it do
        tmp = os.path.join(os.path.dirname(path), ".editor-save.tmp")
        with open(tmp, "wb") as handle:
            handle.write(text)
        os.replace(tmp, path)
    n += 1
    with open(count, "w") as handle:  # progress, for the test to know when enough saves raced its runs
        handle.write(str(n))
    time.sleep(interval)
print(n, flush=True)
"""


def lost_saves(note: Path, run, interval=0.05, runs=100, saves=20, extra_s=120.0) -> tuple[int, int, int]:
    """Call `run(i)` while an editor appends a line to `note` every `interval` s, at least `runs` times and
    then on until the editor has saved `saves` times (for at most `extra_s` more); (runs, saves, lost)."""
    count = note.parents[2] / f"{note.stem}.saves"  # beside the vault (note: vault/Papers/x.md), not in it
    editor = subprocess.Popen([sys.executable, "-c", EDITOR, str(note), str(interval), str(count)],
                              stdout=subprocess.PIPE, text=True, env=ENV)

    def saved() -> int:
        try:
            return int(count.read_text() or 0)
        except (OSError, ValueError):
            return 0

    done = 0
    try:
        assert editor.stdout.readline() == "ready\n"
        # Runs can be faster than an editor's saves on an idle machine and far slower under load: both
        # bounds must hold for the count of lost saves to mean something.
        while done < runs:
            done += 1
            run(done)
        deadline = time.monotonic() + extra_s
        while saved() < saves and time.monotonic() < deadline:
            done += 1
            run(done)
    finally:
        editor.send_signal(signal.SIGTERM)
        saves = int(editor.communicate(timeout=60)[0])
    text = note.read_text(encoding="utf-8")
    return done, saves, sum(f"- editor save {n}\n" not in text for n in range(saves))


@pytest.mark.slow
def test_no_save_is_lost_while_import_runs(tmp_path, capsys):
    pdf, vault = tmp_path / "a.pdf", tmp_path / "vault"
    make_pdf(pdf, [("We propose a simple encoder", "#ff6666", "version 0")])
    assert main(["import", str(pdf), "--vault", str(vault)]) == 0
    [note] = (vault / "Papers").glob("*.md")
    statuses = []

    def run(i):
        with pymupdf.open(pdf) as doc:  # a new comment, as a PDF reader saves it: each run merges
            page = doc[0]
            annot = page.first_annot
            annot.set_info(content=f"version {i}")
            annot.update()
            doc.saveIncr()
        assert main(["import", str(pdf), "--vault", str(vault)]) == 0
        statuses.append(capsys.readouterr().out.split()[0])

    runs, saves, lost = lost_saves(note, run)
    print(f"import: {runs} runs, {saves} editor saves, {lost} lost, "
          f"{statuses.count('updated')} updated, {statuses.count('conflict')} conflicts")
    assert lost == 0 and runs == len(statuses) >= 100 and saves >= 20
    assert [p.name for p in (vault / "Papers").iterdir()] == [note.name], statuses
    assert f"version {runs}" in note.read_text(encoding="utf-8") or statuses[-1] == "conflict"


@pytest.mark.slow
def test_no_save_is_lost_while_sync_runs(tmp_path, capsys):
    data = build_library(tmp_path / "Zotero", n_papers=1, annotations_per_paper=5)
    vault = tmp_path / "vault"
    sync = ["sync", "--vault", str(vault), "--zotero-data-dir", str(data)]
    assert main(sync) == 0
    [note] = (vault / "Papers").glob("*.md")
    statuses = []

    def run(i):
        with sqlite3.connect(data / "zotero.sqlite") as db:  # each run has a changed comment to merge
            db.execute("UPDATE itemAnnotations SET comment = ? WHERE itemID = (SELECT MIN(itemID) FROM "
                       "itemAnnotations)", (f"version {i}",))
        assert main(sync) == 0
        statuses.append(capsys.readouterr().out.split()[0])

    runs, saves, lost = lost_saves(note, run)
    print(f"sync: {runs} runs, {saves} editor saves, {lost} lost, "
          f"{statuses.count('updated')} updated, {statuses.count('conflict')} conflicts")
    assert lost == 0 and runs == len(statuses) >= 100 and saves >= 20


# -- kill -9 at random moments ----------------------------------------------------------------------

def note_bytes(vault: Path) -> dict[str, bytes]:
    return {p.relative_to(vault).as_posix(): p.read_bytes() for p in vault.rglob("*.md") if ".studykit" not in p.parts}


@pytest.mark.slow
def test_kill_9_during_a_large_sync_leaves_each_note_old_or_new(tmp_path):
    import shutil

    papers = generate_papers(150, 20)
    old_data = build_library(tmp_path / "old", papers)
    for paper in papers:  # every note changes between the old library and the new
        paper["title"] += " (revised)"
    new_data = build_library(tmp_path / "new", papers)
    base = tmp_path / "base"
    assert main(["sync", "--vault", str(base), "--zotero-data-dir", str(old_data)]) == 0
    old = note_bytes(base)
    done = tmp_path / "done"
    shutil.copytree(base, done)
    assert main(["sync", "--vault", str(done), "--zotero-data-dir", str(new_data)]) == 0
    new = note_bytes(done)
    assert all(old[k] != new[k] for k in old if "Colour Code" not in k)

    rng, torn = random.Random(9), 0
    for trial in range(5):
        vault = tmp_path / f"trial{trial}"
        shutil.copytree(base, vault)
        proc = subprocess.Popen([sys.executable, "-m", "studykit", "sync", "--vault", str(vault),
                                 "--zotero-data-dir", str(new_data)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=ENV)
        time.sleep(rng.uniform(0.8, 3.0))  # Python's start-up, then somewhere in the writes
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        now = note_bytes(vault)
        torn += sum(now[k] not in (old.get(k), new.get(k)) for k in now)
        assert set(now) <= set(old) | set(new)
        assert main(["sync", "--vault", str(vault), "--zotero-data-dir", str(new_data)]) == 0
        assert note_bytes(vault) == new
        assert not [p for p in vault.rglob("*") if p.name.endswith(".studykit-tmp")]
    print(f"kill -9: 5 trials, {torn} notes neither old nor new")
    assert torn == 0


def test_a_note_deleted_while_studykit_merges_it_is_a_conflict_not_recreated(tmp_path, monkeypatch):
    path = write_note(Vault(tmp_path), "pdf:1", rendered(1), "ViT").path
    real = vsync.merge_note

    def merge_while_the_reader_deletes(existing, *args, **kwargs):
        path.unlink(missing_ok=True)
        return real(existing, *args, **kwargs)

    monkeypatch.setattr(vsync, "merge_note", merge_while_the_reader_deletes)
    result = write_note(Vault(tmp_path), "pdf:1", rendered(2), "ViT")
    assert (result.status, result.path) == ("conflict", path)
    assert result.conflicts == ["Papers/ViT.md: deleted or moved while studykit was writing it; run again"]
    assert not any(tmp_path.rglob("*.md"))
