"""Sample PDFs written with PyMuPDF: pages of text and the marks a reader makes on them.

The project's one PDF builder: the demo's sample paper and the tests' PDFs are made here, so
what a reader's mark is (quads over the phrase, the stroke colour, the comment in /Contents,
then `update()` to write its appearance) is decided once. PyMuPDF is imported on call.
"""

from __future__ import annotations

from typing import Sequence

LETTER = (612, 792)  # PyMuPDF's default page, in points

# A reader's text markup, by the name studykit's PDF reader gives it, to PyMuPDF's method.
MARKUPS = {"highlight": "add_highlight_annot", "underline": "add_underline_annot",
           "strikeout": "add_strikeout_annot", "squiggly": "add_squiggly_annot"}


def rgb(colour: str | Sequence[float]) -> tuple[float, float, float]:
    """'#ff6666', or (r, g, b) in 0..1 as PyMuPDF takes it, -> (r, g, b) in 0..1."""
    if isinstance(colour, str):
        return tuple(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return tuple(colour)


def finish(annot, colour: str | Sequence[float] = "#ffd400", comment: str = "", **info):
    """Give a new annotation its colour and comment (and `info`: title, creationDate...), then draw it."""
    annot.set_colors(stroke=rgb(colour))
    if comment or info:
        annot.set_info(content=comment, **info)
    annot.update()
    return annot


def mark(page, phrase: str, colour: str | Sequence[float] = "#ffd400", comment: str = "", *,
         kind: str = "highlight", **info):
    """Mark every occurrence of `phrase` on `page` as one annotation of `kind` (MARKUPS)."""
    quads = page.search_for(phrase, quads=True)
    if not quads:
        raise ValueError(f"page {page.number + 1} has no {phrase!r}")
    return finish(getattr(page, MARKUPS[kind])(quads), colour, comment, **info)


def mark_first(doc, phrase: str, colour: str | Sequence[float] = "#ffd400", comment: str = "", **options):
    """`mark` on the first page of `doc` that holds `phrase`."""
    for page in doc:
        if page.search_for(phrase):
            return mark(page, phrase, colour, comment, **options)
    raise ValueError(f"no page has {phrase!r}")


def text_pages(pages: Sequence[Sequence[str]], *, size: tuple[float, float] = LETTER, x: float = 72,
               y: float = 100, step: float = 20, fontsize: float = 10, metadata: dict | None = None):
    """A new document, one page per list of lines, line n at (x, y + n * step) in Helvetica."""
    import pymupdf

    doc = pymupdf.open()
    if metadata:
        doc.set_metadata(metadata)
    for lines in pages:
        page = doc.new_page(width=size[0], height=size[1])
        for n, line in enumerate(lines):
            page.insert_text((x, y + n * step), line, fontsize=fontsize)
    return doc


def build(pages: Sequence[Sequence[str]], marks: Sequence[tuple] = (), **layout) -> bytes:
    """The bytes of `text_pages(pages, **layout)` with `marks`, each (phrase, colour, comment) for `mark_first`."""
    doc = text_pages(pages, **layout)
    for phrase, *rest in marks:
        mark_first(doc, phrase, *rest)
    data = doc.tobytes()
    doc.close()
    return data
