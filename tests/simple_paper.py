"""The one-page paper that the import, template and vault-write tests import: a title, four
sentences and the reader's highlights, written by studykit.sample_pdf."""

from __future__ import annotations

from pathlib import Path

from studykit import sample_pdf

TEXT = ("Attention is applied to image patches.", "We propose a simple encoder for images.",
        "Results improve on the benchmark by two points.", "A limitation is the need for data.")


def make_pdf(path: Path, highlights=(("We propose a simple encoder", "#ff6666", "key idea"),),
             title="A Simple Image Encoder") -> Path:
    """Write the paper to `path` with `highlights`, each (phrase, colour, comment); returns `path`."""
    metadata = {"title": title, "author": "Jürgen Müller, Seán O'Brien"}
    path.write_bytes(sample_pdf.build([[f"{title}.", *TEXT]], highlights, fontsize=11, metadata=metadata))
    return path
