"""A PDF with no title in its metadata and none on its first page is named after its file, never "Untitled"."""

from __future__ import annotations

from pathlib import Path

import pymupdf

from studykit import notes
from studykit.sources.pdf import read_pdf


def _titleless(path: Path, y: float = 300) -> Path:
    """A page with one drawn figure and an area annotation on it, as a scan or a slide exported to PDF is."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.draw_rect(pymupdf.Rect(72, y, 300, y + 100), color=(0, 0, 1), fill=(0.8, 0.8, 1))
    annot = page.add_rect_annot(pymupdf.Rect(70, y - 2, 302, y + 102))
    annot.set_colors(stroke=(1, 0, 0))
    annot.update()
    doc.set_metadata({"title": "", "author": ""})
    doc.save(path)
    doc.close()
    return path


def test_no_title_anywhere_gives_the_file_name(tmp_path):
    paper = read_pdf(_titleless(tmp_path / "Scan_2024-03-01 Müller.pdf"))
    assert paper.title == "Scan_2024-03-01 Müller"


def test_two_titleless_pdfs_give_notes_named_after_their_files(tmp_path):
    pdfs = [_titleless(tmp_path / "lecture week 1.pdf"), _titleless(tmp_path / "lecture week 2.pdf", 400)]
    ws = notes.open_workspace(tmp_path / "vault")
    names = sorted(result.path.name for _, result in notes.write_papers(ws, [read_pdf(p) for p in pdfs]))
    assert names == ["lecture week 1.md", "lecture week 2.md"]
