"""Opening a PDF file with PyMuPDF: what is not a PDF, truncated, encrypted or damaged is told in one line."""

from __future__ import annotations

import sys
from pathlib import Path

from studykit.errors import UserError, require_file

_PADDING = b"\0\t\n\f\r "


def import_pymupdf():
    """pymupdf, without the optional add-ons its import pulls in (pymupdf.layout loads onnxruntime
    and numpy, pymupdf4llm its helpers: ~0.4 s at every start, and studykit uses neither)."""
    if "pymupdf" in sys.modules:
        return sys.modules["pymupdf"]
    blocked = [name for name in ("pymupdf.layout", "pymupdf4llm") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # makes `import name` raise ImportError, which pymupdf expects
    try:
        import pymupdf
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    return pymupdf


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (MuPDF's run over several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def open_pdf(path: Path, password: str | None):
    """The open document; a UserError saying in one line why it cannot be read."""
    pymupdf = import_pymupdf()
    # MuPDF prints what it repairs on stdout, where it would corrupt --json; damage that matters
    # reaches the user as an exception, and from there as one line on stderr.
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    require_file(path)
    with path.open("rb") as f:
        head = f.read(1024)
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 65536))
        tail = f.read().rstrip(_PADDING)  # some writers pad a finished file with NULs or blanks
    if b"%PDF-" not in head:
        raise UserError(f"{path}: not a PDF (no %PDF- header)")
    if b"%%EOF" not in tail[-1024:]:
        raise UserError(f"{path}: truncated PDF (the end-of-file marker is missing)")
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # MuPDF raises its own FileDataError and RuntimeErrors
        raise UserError(f"{path}: corrupt PDF: {one_line(exc)}") from None
    try:
        if doc.needs_pass:
            if password is None:
                raise UserError(f"{path}: encrypted PDF: give its password with --password")
            if not doc.authenticate(password):
                raise UserError(f"{path}: wrong password for this encrypted PDF")
        if doc.page_count == 0:
            raise UserError(f"{path}: corrupt PDF: no pages")
    except (RuntimeError, pymupdf.mupdf.FzErrorBase) as exc:  # "Invalid number of pages"
        doc.close()
        raise UserError(f"{path}: damaged PDF: {one_line(exc)}") from None
    except UserError:
        doc.close()
        raise
    return doc
