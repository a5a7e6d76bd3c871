"""Which note a PDF goes to: annotated copies of one document are distinct papers, a PDF saved in place
keeps its note (and its one copy in the vault), notes made before the file name was part of the id are
adopted, never duplicated."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pymupdf
import pytest

from locations import corpus, needs_corpus
from studykit import notes, sample_pdf
from studykit.errors import UserError
from studykit.sources.pdf import read_pdf
from studykit.sources.pdf_metadata import document_id
from vault_export import regions

REALWORLD = corpus("realworld")


PAGE = ["A Paper About Things", "A finding about patches. Another remark about data."]
GREEN = (0.37, 0.7, 0.21)


def _pdf(write_pdf, name: str = "paper.pdf") -> Path:
    """The paper of these tests, its first finding highlighted green; `name` is relative to tmp_path."""
    return write_pdf([PAGE], [("A finding about patches", GREEN)], name=name, step=60)


def _annotated_copy(original: Path, copy: Path, phrase: str = "Another remark") -> Path:
    """A copy of `original` with one more highlight: the same /ID[0], as a reader's copy has."""
    shutil.copyfile(original, copy)
    _highlight_saved_in_place(copy, phrase)
    return copy


def _highlight_saved_in_place(pdf: Path, phrase: str = "Another remark") -> None:
    """What a PDF reader does on save: one more highlight appended to the file (an incremental save)."""
    doc = pymupdf.open(pdf)
    sample_pdf.mark(doc[0], phrase, (1, 0.85, 0.3))
    doc.saveIncr()
    doc.close()


def _import(vault: Path, pdfs) -> list:
    ws = notes.open_workspace(vault)
    return notes.write_papers(ws, [read_pdf(p) for p in pdfs])


def _notes(vault: Path) -> list[Path]:
    return sorted(p for p in (vault / "Papers").glob("*.md"))


def test_two_annotated_copies_of_one_document_are_two_notes(tmp_path, write_pdf):
    first = _pdf(write_pdf, "comments.pdf")
    second = _annotated_copy(first, tmp_path / "highlights.pdf")
    assert document_id(read_pdf(first).id) == document_id(read_pdf(second).id)  # one /ID[0]
    vault = tmp_path / "vault"
    results = _import(vault, [first, second])
    assert [r.status for _, r in results] == ["created", "created"]
    texts = {p.read_text(encoding="utf-8") for p in _notes(vault)}
    assert len(texts) == 2
    assert any("[[attachments/comments.pdf]]" in t for t in texts) and any("[[attachments/highlights.pdf]]" in t for t in texts)
    assert [r.status for _, r in _import(vault, [first, second])] == ["unchanged", "unchanged"]


def test_a_pdf_saved_in_place_keeps_its_note(tmp_path, write_pdf):
    pdf = _pdf(write_pdf, "paper.pdf")
    vault = tmp_path / "vault"
    [(_, made)] = _import(vault, [pdf])
    _annotated_copy(pdf, tmp_path / "tmp.pdf")
    os.replace(tmp_path / "tmp.pdf", pdf)
    [(_, again)] = _import(vault, [pdf])
    assert again.status == "updated" and again.path == made.path and len(_notes(vault)) == 1


def _as_old_studykit_left_it(vault: Path, note: Path, paper_id: str) -> str:
    """Rewrite `note` as studykit made it before file names were part of the id; returns that old id."""
    old = document_id(paper_id)
    text = note.read_text(encoding="utf-8").replace(f"studykit-id: {paper_id}", f"studykit-id: {old}")
    note.write_text(text + "\nMy own summary of the paper.\n", encoding="utf-8")
    shutil.rmtree(vault / ".studykit")
    return old


def test_a_note_made_under_the_old_id_is_adopted_by_its_own_file_only(tmp_path, write_pdf):
    comments = _pdf(write_pdf, "comments.pdf")
    highlights = _annotated_copy(comments, tmp_path / "highlights.pdf")
    vault = tmp_path / "vault"
    [(paper, made)] = _import(vault, [highlights])
    old = _as_old_studykit_left_it(vault, made.path, paper.id)
    ws = notes.open_workspace(vault)
    dry = notes.write_papers(ws, [read_pdf(comments), read_pdf(highlights)], dry_run=True)
    assert [r.status for _, r in dry] == ["created", "updated"] and dry[1][1].path == made.path
    assert f"-studykit-id: {old}\n+studykit-id: {paper.id}\n" in dry[1][1].diff
    assert f"studykit-id: {old}\n" in made.path.read_text(encoding="utf-8")  # a dry run writes nothing
    results = _import(vault, [comments, highlights])
    assert [r.status for _, r in results] == ["created", "updated"]
    assert results[1][1].path == made.path and len(_notes(vault)) == 2
    text = made.path.read_text(encoding="utf-8")
    assert f"studykit-id: {paper.id}\n" in text and f"studykit-id: {old}\n" not in text
    assert "My own summary of the paper." in text
    assert [r.status for _, r in _import(vault, [comments, highlights])] == ["unchanged", "unchanged"]


def test_the_same_file_twice_is_one_note_and_two_files_with_one_id_are_one_line(tmp_path, write_pdf):
    pdf = _pdf(write_pdf, "a/paper.pdf")
    vault = tmp_path / "vault"
    assert len(_import(vault, [pdf, tmp_path / "a" / ".." / "a" / "paper.pdf"])) == 1
    twin = tmp_path / "b" / "paper.pdf"
    twin.parent.mkdir()
    shutil.copyfile(pdf, twin)
    with pytest.raises(UserError, match=re.escape(f"{twin}: the same paper as {pdf}")):
        _import(vault, [pdf, twin])


@needs_corpus("realworld")
def test_the_two_annotated_copies_of_the_tracemonkey_paper_keep_their_own_notes(tmp_path):
    pdfs = [REALWORLD / "pdfjs_comments.pdf", REALWORLD / "pdfjs_highlights.pdf"]
    papers = [read_pdf(p) for p in pdfs]
    assert document_id(papers[0].id) == document_id(papers[1].id)
    vault = tmp_path / "vault"
    results = _import(vault, pdfs)
    assert [r.status for _, r in results] == ["created", "created"] and len(_notes(vault)) == 2
    for (paper, result), pdf in zip(results, pdfs):
        assert f"[[attachments/{pdf.name}]]" in result.path.read_text(encoding="utf-8")


def test_a_pdf_saved_in_place_replaces_studykits_copy_and_a_changed_copy_is_kept(tmp_path, write_pdf):
    pdf = _pdf(write_pdf, "paper.pdf")
    vault = tmp_path / "vault"
    [(_, made)] = _import(vault, [pdf])
    note = made.path
    copy = vault / "attachments" / "paper.pdf"
    assert os.stat(copy).st_mode & 0o777 == 0o666 & ~_umask()
    for _ in range(2):  # each new highlight: the same copy, with the PDF's new bytes
        _highlight_saved_in_place(pdf, "A finding")
        assert [r.path for _, r in _import(vault, [pdf])] == [note]
        assert [p.name for p in (vault / "attachments").glob("*.pdf")] == ["paper.pdf"]
        assert copy.read_bytes() == pdf.read_bytes()
    copy.write_bytes(copy.read_bytes() + b"\n% the reader's own change\n")
    mine = copy.read_bytes()
    _highlight_saved_in_place(pdf, "A finding")
    [(_, result)] = _import(vault, [pdf])
    assert copy.read_bytes() == mine  # never replaced: studykit did not write these bytes
    [other] = {p.name for p in (vault / "attachments").glob("*.pdf")} - {"paper.pdf"}
    assert (vault / "attachments" / other).read_bytes() == pdf.read_bytes()
    assert any("attachments/paper.pdf" in c and other in c for c in result.conflicts)
    assert f"[[attachments/{other}]]" in note.read_text(encoding="utf-8")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_an_adopted_note_keeps_one_picture_of_each_area(tmp_path, write_pdf):
    from studykit.note import attachment_name

    pdf = _pdf(write_pdf, "paper.pdf")
    doc = pymupdf.open(pdf)
    page = doc[0]
    page.add_rect_annot(pymupdf.Rect(60, 70, 400, 120)).update()
    doc.saveIncr()
    doc.close()
    vault = tmp_path / "vault"
    [(paper, made)] = _import(vault, [pdf])
    [area] = [a for a in paper.annotations if a.image]
    new, old = (attachment_name(i, area.id) for i in (paper.id, document_id(paper.id)))
    (vault / "attachments" / new).rename(vault / "attachments" / old)  # as the old studykit named it
    text = made.path.read_text(encoding="utf-8").replace(new, old)
    made.path.write_text(regions.seal(text), encoding="utf-8")  # its regions as studykit sealed them
    _as_old_studykit_left_it(vault, made.path, paper.id)
    [(_, again)] = _import(vault, [pdf])
    assert again.path == made.path and again.status == "updated"
    assert sorted(p.name for p in (vault / "attachments").glob("*.png")) == [new]
    assert f"![[{new}" in made.path.read_text(encoding="utf-8") or f"![[attachments/{new}" in made.path.read_text(encoding="utf-8")


def test_link_mode_links_the_new_file_after_a_full_save_and_keeps_one_copy(tmp_path, write_pdf):
    pdf = _pdf(write_pdf, "paper.pdf")
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "studykit.toml").write_text('pdf_attach = "link"\n', encoding="utf-8")
    _import(vault, [pdf])
    linked = vault / "attachments" / "paper.pdf"
    assert os.stat(linked).st_ino == os.stat(pdf).st_ino
    _highlight_saved_in_place(pdf, "A finding")  # the same file: the link shows it at once
    _annotated_copy(pdf, tmp_path / "saved.pdf")  # a reader that writes a new file and renames it over
    os.replace(tmp_path / "saved.pdf", pdf)
    _import(vault, [pdf])
    assert [p.name for p in (vault / "attachments").glob("*.pdf")] == ["paper.pdf"]
    assert os.stat(linked).st_ino == os.stat(pdf).st_ino
