"""Every expectation of the shared corpora holds: pdfannots' (real PDFs from Acrobat, Skim, Preview,
Word) and the real-world one (PDFs from pdf.js, PyMuPDF, pdfplumber, pypdf, ... test suites)."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata

import pymupdf
import pytest

from locations import corpus, needs_corpus
from studykit.sources.pdf import read_pdf


CORPUS = corpus("pdfannots")
needs_pdfannots = needs_corpus("pdfannots")
EXPECTED = json.loads((CORPUS / "expected.json").read_text()) if CORPUS else {"files": {}}


def _norm(text: str | None) -> str:
    """As expected.json's 'about' says: NFKC, straight quotes, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text or "")
    for curly, straight in {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"}.items():
        text = text.replace(curly, straight)
    return " ".join(text.split())


@needs_pdfannots
@pytest.mark.parametrize("name", sorted(EXPECTED["files"]))
def test_corpus_file(name):
    expected = EXPECTED["files"][name]
    annotations = read_pdf(CORPUS / name).annotations
    assert len(annotations) == expected["count"]
    for i, (want, got) in enumerate(zip(expected["annotations"], annotations)):
        where = f"{name} annotation {i}"
        if "kind" in want:
            assert got.kind == want["kind"], where
        if "page" in want:
            assert got.page == want["page"], where
        if "text" in want:
            assert _norm(got.text) == _norm(want["text"]), where
        if "comment" in want:
            if want["comment"] is None:
                assert not got.comment, where
            else:
                assert got.comment == want["comment"], where


# ---------------------------------------------------------------- the real-world corpus

REALWORLD = corpus("realworld")
REAL = json.loads((REALWORLD / "expected.json").read_text()) if REALWORLD else {"files": {}}
needs_realworld = needs_corpus("realworld")


def _studykit(*args):
    return subprocess.run([sys.executable, "-m", "studykit", "annotations", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def realworld_rows():
    """Every file that opens without a password, read in one batch invocation: name -> its rows."""
    names = sorted(p.name for p in REALWORLD.glob("*.pdf")
                   if REAL["files"].get(p.name, {}).get("exit", 0) == 0 and "password" not in REAL["files"].get(p.name, {}))
    result = _studykit("--json", *(REALWORLD / n for n in names))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(names)
    return dict(zip(names, map(json.loads, lines)))


@needs_realworld
def test_realworld_every_file_reads_without_a_traceback(realworld_rows):
    assert len(realworld_rows) >= 25
    assert all(isinstance(rows, list) for rows in realworld_rows.values())


@needs_realworld
@pytest.mark.parametrize("name", sorted(n for n, e in REAL["files"].items() if e["exit"] != 0 or "password" in e))
def test_realworld_exit_status(name):
    expected = REAL["files"][name]
    result = _studykit(REALWORLD / name, "--json", *(["--password", expected["password"]] if "password" in expected else []))
    assert result.returncode == expected["exit"], result.stderr
    assert "Traceback" not in result.stderr
    if expected["exit"] == 2:
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1 and name in result.stderr


@needs_realworld
@pytest.mark.parametrize("name", sorted(n for n, e in REAL["files"].items() if e["exit"] == 0 and "password" not in e))
def test_realworld_expectations(realworld_rows, name):
    expected, rows = REAL["files"][name], realworld_rows[name]
    for page, substring in expected.get("texts", []):
        assert any(substring in " ".join(r["text"].split()) for r in rows if r["page"] == page), (page, substring)
    if "order" in expected:
        page, starts = expected["order"]
        texts = [" ".join(r["text"].split()) for r in rows if r["page"] == page and r["text"]]
        found = [next(i for i, t in enumerate(texts) if t.startswith(s)) for s in starts]
        assert found == sorted(found), list(zip(starts, found))
    for colour, category in expected.get("categories", {}).items():
        got = {r["category"] for r in rows if r["color"] == colour}
        assert got == {category}, colour
    if expected.get("unique_ids"):
        assert len({r["id"] for r in rows}) == len(rows)


@needs_realworld
@pytest.mark.parametrize("name", sorted(n for n, e in REAL["files"].items() if e.get("pictures")))
def test_realworld_pictures_are_not_blank(name):
    pictures = [a for a in read_pdf(REALWORLD / name).annotations if a.kind in ("image", "ink")]
    assert pictures
    for a in pictures:
        if a.image is None:  # only where the mark has no area, and then the note says so
            assert a.notice.startswith("no picture"), a
            continue
        pix = pymupdf.Pixmap(a.image)
        assert pix.width > 1 and pix.height > 1
        assert len(set(pix.samples)) > 1, f"{name}: blank picture for {a.kind} at {a.rects}"
