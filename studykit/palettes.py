"""Highlight colours real PDF readers write, each with the category it means in the reader's code.

Every row names where its figure comes from: the reader's own source, or a file of the shared
corpus (../shared/corpus, SOURCES.tsv) whose /Producer names the program that saved it (the
program that drew the mark may differ). Only colours with such a source are listed; any other
colour is judged by its hue (taxonomy.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from studykit.model import Category


@dataclass(frozen=True)
class PaletteColour:
    reader: str
    name: str  # what the reader calls it
    hex: str
    category: Category
    source: str


_C, _D, _F, _R, _M, _L, _B, _Q = (Category.CONTRIBUTION, Category.DEFINITION, Category.FORMULA, Category.RESULT,
                                  Category.METHOD, Category.LIMITATION, Category.BACKGROUND, Category.QUESTION)
_ZOTERO = "zotero/reader src/common/defines.js (ANNOTATION_COLORS)"
_PDFJS = "mozilla/pdf.js web/app_options.js (highlightEditorColors)"

PALETTES: tuple[PaletteColour, ...] = (
    PaletteColour("Zotero 7", "yellow", "#ffd400", _D, _ZOTERO),
    PaletteColour("Zotero 7", "red", "#ff6666", _C, _ZOTERO),
    PaletteColour("Zotero 7", "green", "#5fb236", _R, _ZOTERO),
    PaletteColour("Zotero 7", "blue", "#2ea8e5", _F, _ZOTERO),
    PaletteColour("Zotero 7", "purple", "#a28ae5", _M, _ZOTERO),
    PaletteColour("Zotero 7", "magenta", "#e56eee", _Q, _ZOTERO),
    PaletteColour("Zotero 7", "orange", "#f19837", _L, _ZOTERO),
    PaletteColour("Zotero 7", "gray", "#aaaaaa", _B, _ZOTERO),
    PaletteColour("pdf.js / Firefox", "yellow", "#ffff98", _D, _PDFJS),
    PaletteColour("pdf.js / Firefox", "green", "#53ffbc", _R, _PDFJS),
    PaletteColour("pdf.js / Firefox", "blue", "#80ebff", _F, _PDFJS),
    PaletteColour("pdf.js / Firefox", "pink", "#ffcbe6", _Q, _PDFJS),
    PaletteColour("pdf.js / Firefox", "red", "#ff4f5f", _C, _PDFJS),
    PaletteColour("Kindle highlights exporter", "yellow", "#ffff00", _D,
                  "realworld kindle_659ec.pdf, kindle_downey2024.pdf, kindle_peirce.pdf"),
    PaletteColour("macOS Preview 14", "yellow", "#ffff99", _D, "realworld pdfjs_comments.pdf (Producer: macOS 14.4.1)"),
    PaletteColour("macOS Preview 14", "green", "#7df066", _R, "realworld pdfjs_comments.pdf (Producer: macOS 14.4.1)"),
    PaletteColour("macOS Preview 14", "blue", "#69b0f1", _F, "realworld pdfjs_highlights.pdf (Producer: macOS 14.4.1)"),
    PaletteColour("macOS Preview 14", "pink", "#ff809d", _C, "realworld pdfjs_highlights.pdf (Producer: macOS 14.4.1)"),
    PaletteColour("macOS Preview 10.11", "yellow", "#ffe79d", _D,
                  "realworld pdfjs_issue7014.pdf (Producer: Mac OS X 10.11.2)"),
    PaletteColour("macOS Preview 10.11", "blue", "#a3d4f8", _F,
                  "realworld pdfjs_issue7014.pdf (Producer: Mac OS X 10.11.2)"),
    PaletteColour("macOS Preview 10.11", "red", "#be0a10", _C,
                  "realworld pdfjs_issue7014.pdf (Producer: Mac OS X 10.11.2)"),
    PaletteColour("macOS Preview 10.7", "yellow", "#ffdb8d", _D,
                  "realworld pdfjs_annot-chart.pdf (Producer: Mac OS X 10.7.2)"),
    PaletteColour("iOS Markup", "yellow", "#facd5a", _D, "pdfannots issue46.pdf (Producer: iOS 15.1)"),
)
