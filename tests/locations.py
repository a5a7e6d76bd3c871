"""Where the tests find what lies beside them: this checkout, its templates, the learner files
the checker is tried on, and the shared corpus ($STUDYKIT_CORPUS, else ../shared/corpus)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "templates"  # this checkout's, not an installed copy's
EXERCISES = Path(__file__).resolve().parent / "check" / "exercises"


def corpus(part: str) -> Path | None:
    """The corpus folder `part` ("realworld" or "pdfannots") with its expected.json, or None."""
    for root in (os.environ.get("STUDYKIT_CORPUS"), REPO.parent / "shared" / "corpus"):
        if root and (Path(root) / part / "expected.json").is_file():
            return Path(root) / part
    return None


def needs_corpus(*parts: str) -> pytest.MarkDecorator:
    """Skip, saying which, where one of the corpus folders `parts` is not found."""
    missing = [part for part in parts if corpus(part) is None]
    return pytest.mark.skipif(bool(missing), reason=f"{' and '.join(missing)} corpus not found: "
                                                    "set STUDYKIT_CORPUS or put it at ../shared/corpus")
