"""Fixtures shared by the test modules: a vault, PDFs with a reader's marks, the Zotero doubles,
and the list of modules a studykit command imports.

pytest puts this folder on sys.path for conftest.py, so the doubles (zotero_fixture.py,
zotero_server.py) import by their bare names here and in the test modules.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from studykit import sample_pdf
from zotero_fixture import SAMPLE_COLLECTIONS, build_library, sample_papers
from zotero_server import ZoteroServer


@pytest.fixture
def vault(tmp_path) -> Path:
    """An empty Obsidian vault: a folder with the Papers/ folder notes go to."""
    root = tmp_path / "vault"
    (root / "Papers").mkdir(parents=True)
    return root


@pytest.fixture
def write_pdf(tmp_path):
    """Write a PDF into tmp_path and return its path: `write_pdf(pages, marks, name=..., **layout)`.

    `pages`: one list of text lines per page; `marks`: (phrase, colour, comment) highlights, each on
    the first page that holds the phrase; `layout`: studykit.sample_pdf.text_pages's options
    (size, x, y, step, fontsize, metadata). Other marks: sample_pdf.mark on the opened file.
    """
    def make(pages, marks=(), *, name: str = "paper.pdf", **layout) -> Path:
        path = tmp_path / name
        path.write_bytes(sample_pdf.build(pages, marks, **layout))
        return path

    return make


@pytest.fixture
def zotero_papers() -> list[dict]:
    """The sample library (zotero_fixture.sample_papers), fresh for each test: a test may edit it."""
    return sample_papers()


@pytest.fixture
def zotero_data_dir(tmp_path, zotero_papers) -> Path:
    """A Zotero data directory holding the sample library: zotero.sqlite and storage/."""
    return build_library(tmp_path / "Zotero", zotero_papers, collections=SAMPLE_COLLECTIONS)


@pytest.fixture
def zotero_server(zotero_papers, zotero_data_dir):
    """The Zotero local API double serving the sample library (and its files in zotero_data_dir)."""
    with ZoteroServer(zotero_papers, collections=SAMPLE_COLLECTIONS, data_dir=zotero_data_dir) as running:
        yield running


@pytest.fixture
def imported_modules():
    """`imported_modules(*ARGS, cwd=...)`: every module `python -m studykit ARGS` imports (by -X
    importtime), once the command has succeeded."""
    def run(*args, cwd: Path | None = None) -> set[str]:
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "studykit", *map(str, args)],
                              capture_output=True, text=True, cwd=cwd, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        # "import time: self [us] | cumulative | <indent>module", one line per module imported
        return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:") and line.count("|") == 2} - {"imported package"}

    return run
