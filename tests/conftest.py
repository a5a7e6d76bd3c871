"""Fixtures shared by the test modules: a vault, PDFs with a reader's marks, the Zotero doubles,
the list of modules a studykit command imports and code cells run alone; and how the suite runs
(one torch thread a process, pytest-xdist's workers).

pytest puts this folder on sys.path for conftest.py, so the doubles (zotero_fixture.py,
zotero_server.py) import by their bare names here and in the test modules.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# One torch thread per test process and per process a test starts (kernels, check workers, demo):
# the suite runs on every core at once (pytest-xdist, pyproject.toml), and torch's default of an
# OpenMP thread per core on top of that oversubscribes the cores; the waiting threads spin and
# burn CPU. On 2 busy cores tests/swin/test_swin_model.py took 13-17 s of CPU with the default,
# 9 s with one thread. Set before anything imports torch; an OMP_NUM_THREADS of your own wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from studykit import sample_pdf  # noqa: E402
from studykit.sources.pdf_open import import_pymupdf  # noqa: E402
from zotero_fixture import SAMPLE_COLLECTIONS, build_library, sample_papers  # noqa: E402
from zotero_server import ZoteroServer  # noqa: E402

# PyMuPDF as studykit's commands load it, without the layout add-on (onnxruntime) that a plain
# `import pymupdf` pulls in: the test modules' own `import pymupdf` then finds it loaded (~0.5 s
# less in every test process).
import_pymupdf()


def pytest_addoption(parser, pluginmanager):
    """Accept pyproject.toml's `--numprocesses=auto --dist=...` where pytest-xdist is not loaded (not
    installed, or `-p no:xdist`): the tests then run one after another in this process."""
    if not pluginmanager.has_plugin("xdist"):
        for option in ("--numprocesses", "--dist"):
            parser.addoption(option, help="pytest-xdist is not loaded: ignored")


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: unknown where xdist is not loaded
def pytest_xdist_auto_num_workers(config):
    """One test file runs in this process: each worker would import and collect it before starting."""
    files = {arg.split("::")[0] for arg in config.args}
    return 0 if len(files) == 1 and next(iter(files)).endswith(".py") else None  # None: one worker per CPU


@pytest.fixture
def vault(tmp_path) -> Path:
    """An empty Obsidian vault: a folder with the Papers/ folder notes go to."""
    root = tmp_path / "vault"
    (root / "Papers").mkdir(parents=True)
    return root


@pytest.fixture
def write_pdf(tmp_path):
    """Write a PDF into tmp_path and return its path: `write_pdf(pages, marks, name=..., **layout)`.

    `name` may hold folders; `pages`: one list of text lines per page; `marks`: (phrase, colour,
    comment) highlights, each on the first page that holds the phrase; `layout`:
    studykit.sample_pdf.text_pages's options (size, x, y, step, fontsize, metadata). Other marks:
    sample_pdf.mark on the opened file.
    """
    def make(pages, marks=(), *, name: str = "paper.pdf", **layout) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
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


@pytest.fixture(scope="session")
def run_alone(tmp_path_factory):
    """`run_alone(code, cwd, timeout)`: the CompletedProcess of `code` run alone, as `python -c code`
    in `cwd` runs it, in a process forked for it by tests/alone.py (torch imported once a session)."""
    script = (Path(__file__).parent / "alone.py").read_text(encoding="utf-8")
    server = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    outputs, cells = tmp_path_factory.mktemp("alone"), itertools.count()

    def run(code: str, cwd: Path, timeout: int) -> subprocess.CompletedProcess:
        n = next(cells)
        out, err = outputs / f"{n}.out", outputs / f"{n}.err"
        cell = {"code": code, "cwd": str(cwd), "out": str(out), "err": str(err), "timeout": timeout}
        server.stdin.write(json.dumps(cell) + "\n")
        server.stdin.flush()
        returncode = int(server.stdout.readline())
        return subprocess.CompletedProcess(["python", "-c", code], returncode, out.read_text(), err.read_text())

    yield run
    server.stdin.close()
    server.wait(timeout=60)


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
