"""`studykit import`: real PDFs (PyMuPDF) into a real vault, re-imports that keep the reader's work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest

from locations import corpus, needs_corpus
from simple_paper import make_pdf
from studykit import sample_pdf
from studykit.cli import main


def run_cli(*args, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def notes_in(vault: Path) -> list[Path]:
    return sorted(p for p in vault.rglob("*.md") if ".studykit" not in p.parts and p.name != "颜色编码 Colour Code.md")


def test_import_writes_one_note_per_pdf_and_reimport_changes_nothing(tmp_path, capsys):
    pdfs = [make_pdf(tmp_path / "a.pdf"), make_pdf(tmp_path / "b.pdf", [("Results improve", "#5fb236", "")], "Another")]
    vault = tmp_path / "vault"
    code, out, _ = run_cli("import", *pdfs, "--vault", vault, capsys=capsys)
    assert code == 0 and "2 created" in out
    made = notes_in(vault)
    assert len(made) == 2
    [note] = [p for p in made if "Simple" in p.name]
    text = note.read_text(encoding="utf-8")
    assert "> We propose a simple encoder" in text and "💬 key idea" in text
    assert (vault / "颜色编码 Colour Code.md").is_file()
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in vault.rglob("*") if p.is_file()}
    code, out, _ = run_cli("import", *pdfs, "--vault", vault, capsys=capsys)
    assert code == 0 and "0 created, 0 updated" in out
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in vault.rglob("*") if p.is_file()}
    assert after == before


def test_renamed_moved_note_gets_new_highlight_and_keeps_reader_work(tmp_path, capsys):
    pdf = make_pdf(tmp_path / "paper.pdf")
    vault = tmp_path / "vault"
    assert run_cli("import", pdf, "--vault", vault, capsys=capsys)[0] == 0
    [note] = notes_in(vault)
    text = note.read_text(encoding="utf-8")
    # The reader ticks a checklist item, writes a paragraph, adds a property, then renames and moves the note.
    text = text.replace("- [ ] **问题 (Problem):**", "- [x] **问题 (Problem):**", 1)
    text = text.replace("- **我的评价 (My evaluation)：**", "- **我的评价 (My evaluation)：** 非常值得一读 — my own words.", 1)
    text = text.replace("tags:\n", "rating: 5\ntags:\n", 1)
    moved = vault / "Reading" / "Renamed by me.md"
    moved.parent.mkdir()
    moved.write_text(text, encoding="utf-8")
    note.unlink()

    doc = pymupdf.open(pdf)  # the reader adds a highlight and saves in place, as PDF readers do
    sample_pdf.mark(doc[0], "A limitation is the need for data", "#f19837", "future work")
    doc.saveIncr()
    doc.close()

    code, out, _ = run_cli("import", pdf, "--vault", vault, capsys=capsys)
    assert code == 0 and "1 updated" in out, out
    assert notes_in(vault) == [moved]
    new = moved.read_text(encoding="utf-8")
    assert "- [x] **问题 (Problem):**" in new
    assert "非常值得一读 — my own words." in new
    assert "rating: 5" in new
    assert "A limitation is the need for data" in new and "💬 future work" in new
    assert "> We propose a simple encoder" in new


def test_dry_run_prints_a_diff_and_writes_nothing(tmp_path, capsys):
    pdf = make_pdf(tmp_path / "paper.pdf")
    vault = tmp_path / "vault"
    vault.mkdir()
    code, out, _ = run_cli("import", pdf, "--vault", vault, "--dry-run", capsys=capsys)
    assert code == 0
    assert out.startswith("--- /dev/null") and "+> We propose a simple encoder" in out and "dry run" in out
    assert not any(vault.iterdir())

    run_cli("import", pdf, "--vault", vault, capsys=capsys)
    doc = pymupdf.open(pdf)
    sample_pdf.mark(doc[0], "Results improve on the benchmark", "#5fb236", "")
    doc.saveIncr()
    doc.close()
    snapshot = {p: p.read_bytes() for p in vault.rglob("*") if p.is_file()}
    code, out, _ = run_cli("import", pdf, "--vault", vault, "--dry-run", "--json", capsys=capsys)
    row = json.loads(out.splitlines()[0])
    assert row["status"] == "updated" and "+> Results improve on the benchmark" in row["diff"]
    assert {p: p.read_bytes() for p in vault.rglob("*") if p.is_file()} == snapshot


def test_edited_region_is_kept_and_reported_until_force(tmp_path, capsys):
    pdf = make_pdf(tmp_path / "paper.pdf")
    vault = tmp_path / "vault"
    run_cli("import", pdf, "--vault", vault, capsys=capsys)
    [note] = notes_in(vault)
    note.write_text(note.read_text(encoding="utf-8").replace("💬 key idea", "💬 my rewrite"), encoding="utf-8")
    doc = pymupdf.open(pdf)
    sample_pdf.mark(doc[0], "Attention is applied", "#ff6666", "second")
    doc.saveIncr()
    doc.close()
    code, out, _ = run_cli("import", pdf, "--vault", vault, capsys=capsys)
    assert code == 0 and "1 conflicts" in out and "motivation" in out
    assert "my rewrite" in note.read_text(encoding="utf-8")
    run_cli("import", pdf, "--vault", vault, "--force", capsys=capsys)
    text = note.read_text(encoding="utf-8")
    assert "my rewrite" not in text and "💬 second" in text


def test_pdf_inside_vault_links_with_wikilinks(tmp_path, capsys):
    vault = tmp_path / "vault"
    (vault / "pdfs").mkdir(parents=True)
    pdf = make_pdf(vault / "pdfs" / "my paper.pdf")
    run_cli("import", pdf, "--vault", vault, capsys=capsys)
    [note] = notes_in(vault)
    assert "[[pdfs/my paper.pdf#page=1|p. 1]]" in note.read_text(encoding="utf-8")
    outside = make_pdf(tmp_path / "out side.pdf", [("Results improve", "#5fb236", "")], "Elsewhere")
    run_cli("import", outside, "--vault", vault, capsys=capsys)
    texts = "".join(p.read_text(encoding="utf-8") for p in notes_in(vault))
    # A PDF outside the vault is copied into its attachment folder: links work on every synced machine.
    assert "file://" not in texts and "[[attachments/out side.pdf#page=1|p. 1]]" in texts
    assert (vault / "attachments" / "out side.pdf").read_bytes() == outside.read_bytes()


@pytest.mark.parametrize("make_bad, message", [
    (lambda d: d / "missing.pdf", "no such file"),
    (lambda d: (d / "fake.pdf").write_text("not a pdf") and d / "fake.pdf", "fake.pdf"),
])
def test_bad_pdf_is_one_line_exit_2(tmp_path, make_bad, message):
    bad = make_bad(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "studykit", "import", str(bad), "--vault", str(tmp_path / "v")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def damage(good: Path, name: str) -> Path:
    """A PDF cut after 400 bytes, as an interrupted download leaves it: PyMuPDF cannot read it."""
    damaged = good.with_name(name)
    damaged.write_bytes(good.read_bytes()[:400] + b"\n%%EOF\n")
    return damaged


def test_an_unreadable_pdf_among_several_gets_its_line_and_the_others_are_imported(tmp_path, capsys):
    a = make_pdf(tmp_path / "a.pdf")
    broken = damage(a, "broken.pdf")
    c = make_pdf(tmp_path / "c.pdf", [("Results improve", "#5fb236", "")], "Another")
    vault = tmp_path / "vault"
    code, out, err = run_cli("import", a, broken, c, "--vault", vault, capsys=capsys)
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith(f"studykit: error: {broken}: ") and "PDF" in line
    assert "2 created" in out and len(notes_in(vault)) == 2
    code, out, err = run_cli("import", a, broken, c, "--vault", vault, "--json", capsys=capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert [json.loads(line)["status"] for line in out.splitlines()] == ["unchanged", "unchanged"]


def test_when_no_pdf_can_be_read_no_new_vault_folder_is_left_and_a_dry_run_none_either(tmp_path, capsys):
    good = make_pdf(tmp_path / "good.pdf")
    damaged, also = damage(good, "damaged.pdf"), damage(good, "also damaged.pdf")
    vault = tmp_path / "new" / "vault"
    code, _, err = run_cli("import", damaged, also, "--vault", vault, capsys=capsys)
    assert code == 2 and [line.split(": ")[2] for line in err.splitlines()] == [str(damaged), str(also)]
    assert not (tmp_path / "new").exists()
    code, out, _ = run_cli("import", good, "--vault", vault, "--dry-run", capsys=capsys)
    assert code == 0 and "would be created" in out
    assert not (tmp_path / "new").exists()


def test_a_missing_pdf_fails_before_anything_is_read_or_written(tmp_path, capsys):
    good = make_pdf(tmp_path / "good.pdf")
    vault = tmp_path / "new" / "vault"
    code, out, err = run_cli("import", good, tmp_path / "typo.pdf", "--vault", vault, capsys=capsys)
    assert code == 2 and err == f"studykit: error: {tmp_path / 'typo.pdf'}: no such file\n" and out == ""
    assert not (tmp_path / "new").exists()


@needs_corpus("realworld")
def test_importing_the_real_world_corpus_imports_every_readable_pdf_despite_the_broken_ones(tmp_path, capsys):
    from studykit.errors import UserError
    from studykit.sources.pdf import read_pdf

    realworld = corpus("realworld")
    broken = damage(make_pdf(tmp_path / "made.pdf"), "interrupted download.pdf")
    pdfs = sorted(realworld.glob("*.pdf")) + [broken]
    alone = {}  # what each PDF gives when it is imported by itself: the batch must agree
    for pdf in pdfs:
        try:
            alone[pdf] = read_pdf(pdf).id
        except UserError as exc:
            alone[pdf] = f"studykit: error: {exc}"
    failing = [pdf for pdf in pdfs if alone[pdf].startswith("studykit: error: ")]
    expected_broken = {realworld / name for name, want in json.loads((realworld / "expected.json").read_text())[
        "files"].items() if want.get("exit") == 2}
    assert expected_broken | {broken} <= set(failing)  # the corpus's damaged files do fail on their own
    vault = tmp_path / "vault"
    code, out, err = run_cli("import", *pdfs, "--vault", vault, "--json", capsys=capsys)
    assert code == 2
    assert err.splitlines() == [alone[pdf] for pdf in failing]  # one line each, in command-line order
    written = [json.loads(line) for line in out.splitlines()]
    assert sorted(row["id"] for row in written) == sorted(alone[pdf] for pdf in pdfs if pdf not in failing)
    assert all(row["status"] == "created" for row in written) and len(notes_in(vault)) == len(written)


def test_vault_that_is_a_file_is_one_line_exit_2(tmp_path):
    pdf = make_pdf(tmp_path / "p.pdf")
    (tmp_path / "vault").write_text("")
    proc = subprocess.run([sys.executable, "-m", "studykit", "import", str(pdf), "--vault", str(tmp_path / "vault")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "is a file, not a vault folder" in proc.stderr


def test_import_does_not_import_torch(tmp_path):
    pdf = make_pdf(tmp_path / "p.pdf")
    code = ("import sys; from studykit.cli import main; "
            f"main(['import', {str(pdf)!r}, '--vault', {str(tmp_path / 'v')!r}]); print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("False")
