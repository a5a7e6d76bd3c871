"""Mutated copies of annotated PDFs: `studykit annotations` gives exit 0 or one line and exit 2 for each,
never a traceback, a crash or a hang.

300 copies (flipped bytes, truncations with and without a new end marker, a cut or broken xref,
deleted and repeated chunks) of two annotated PDFs: one made here with PyMuPDF (every kind studykit
reads, a reply, a rotated page) and, where the shared corpus is present, a real one from pdf.js's
tests. They are read in batches of 25 files per process; a batch may take at most BATCH_LIMIT_S
seconds (a hang fails the test, and the process is killed).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pymupdf
import pytest

from locations import corpus
COPIES = 150  # of each source PDF
BATCH = 25
BATCH_LIMIT_S = 120  # ~5 s a file on the 2-core test machine; a healthy file takes ~0.05 s
REAL = "pdfjs_annotation-caret-ink.pdf"


def _made_here() -> bytes:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "a highlighted claim, a struck word, a wavy line", fontsize=11)
    for phrase, add in (("highlighted claim", page.add_highlight_annot), ("struck", page.add_strikeout_annot),
                        ("wavy line", page.add_squiggly_annot)):
        annot = add(page.search_for(phrase))
        annot.set_info(content=f"#question about {phrase}")
        annot.update()
    parent = page.first_annot
    reply = page.add_text_annot((300, 300), "a reply")
    doc.xref_set_key(reply.xref, "IRT", f"{parent.xref} 0 R")
    page.add_rect_annot(pymupdf.Rect(72, 200, 300, 300)).update()
    page.add_ink_annot([[(100, 400), (150, 450), (200, 400)]]).update()
    page.add_caret_annot((350, 95)).update()
    rotated = doc.new_page()
    rotated.insert_text((72, 100), "on a turned page", fontsize=11)
    rotated.add_rect_annot(pymupdf.Rect(60, 80, 300, 120)).update()
    rotated.set_rotation(90)
    data = doc.tobytes()
    doc.close()
    return data


def _sources() -> dict[str, bytes]:
    sources = {"made-here": _made_here()}
    realworld = corpus("realworld")
    if realworld and (realworld / REAL).is_file():
        sources["realworld"] = (realworld / REAL).read_bytes()
    return sources


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One damaged copy: the kinds of damage a download, a disk or a broken writer leaves."""
    how = rng.choice(["flip", "flip", "truncate", "truncate-marked", "xref", "startxref", "delete", "repeat"])
    out = bytearray(data)
    if how == "flip":
        for _ in range(rng.randint(1, 40)):
            out[rng.randrange(len(out))] = rng.randrange(256)
    elif how.startswith("truncate"):
        out = out[:rng.randrange(16, len(out))]
        if how == "truncate-marked":
            out += b"\n%%EOF\n"
    elif how == "xref":
        start = data.rfind(b"xref")
        end = data.find(b"trailer", start)
        if start >= 0 and end > start:
            cut = rng.randrange(start, end)
            out = out[:cut] + out[rng.randrange(cut, end + 1):]
    elif how == "startxref":
        at = data.rfind(b"startxref")
        if at >= 0:
            out = out[:at + 10] + str(rng.randrange(0, len(data) * 2)).encode() + b"\n%%EOF\n"
    else:
        start = rng.randrange(len(out))
        chunk = out[start:start + rng.randint(1, 2000)]
        if how == "delete":
            out = out[:start] + out[start + len(chunk):]
        else:
            out = out[:start] + chunk * rng.randint(2, 5) + out[start:]
    return bytes(out)


@pytest.mark.slow
def test_mutated_pdfs_give_exit_0_or_one_line_and_2_never_a_traceback(tmp_path):
    rng = random.Random(20261126)
    files = []
    for name, data in _sources().items():
        for i in range(COPIES):
            path = tmp_path / f"{name}-{i:03d}.pdf"
            path.write_bytes(mutate(data, rng))
            files.append(path)
    read = failed = 0
    for start in range(0, len(files), BATCH):
        batch = files[start:start + BATCH]
        result = subprocess.run([sys.executable, "-m", "studykit", "annotations", "--json", *map(str, batch)],
                                capture_output=True, text=True, timeout=BATCH_LIMIT_S)
        assert result.returncode in (0, 2), (batch, result.stderr[-2000:])
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        errors = [line for line in result.stderr.splitlines() if line.startswith("studykit: error: ")]
        assert all(line.startswith(("studykit: error: ", "studykit: warning: ")) for line in result.stderr.splitlines())
        assert all(any(str(p) in line for p in batch) for line in errors)
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert all(isinstance(r, list) for r in rows)
        assert len(rows) + len(errors) == len(batch)  # each file: its list, or its one line
        read += len(rows)
        failed += len(errors)
    assert read > 0 and failed > 0  # the mutations reach both outcomes
