"""Every expectation of the pdfannots corpus (real PDFs from Acrobat, Skim, Preview, Word) holds."""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest

from studykit.sources.pdf import read_pdf


def _corpus() -> Path | None:
    for root in (os.environ.get("STUDYKIT_CORPUS"), Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"):
        if root and (Path(root) / "pdfannots" / "expected.json").is_file():
            return Path(root) / "pdfannots"
    return None


CORPUS = _corpus()
pytestmark = pytest.mark.skipif(
    CORPUS is None, reason="pdfannots corpus not found: set STUDYKIT_CORPUS or put it at ../shared/corpus"
)
EXPECTED = json.loads((CORPUS / "expected.json").read_text()) if CORPUS else {"files": {}}


def _norm(text: str | None) -> str:
    """As expected.json's 'about' says: NFKC, straight quotes, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text or "")
    for curly, straight in {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"}.items():
        text = text.replace(curly, straight)
    return " ".join(text.split())


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
