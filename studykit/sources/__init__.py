"""Where annotations come from: a PDF file or a Zotero library."""

from __future__ import annotations

from pathlib import Path

from studykit.errors import UserError
from studykit.model import Paper


def read_source(spec: str, *, password: str | None = None, zotero_data_dir=None, web: bool = False) -> list[Paper]:
    """Papers of SOURCE as it says them (unclassified): a PDF path -> [its Paper]; 'zotero:KEY' -> the Zotero item."""
    if spec.startswith("zotero:"):
        key = spec.removeprefix("zotero:").strip()
        if not key:
            raise UserError(f"{spec}: give an item key after 'zotero:' (zotero:ABCD2345)")
        if zotero_data_dir is not None:
            from studykit.sources import zotero_db

            return zotero_db.read_library(Path(zotero_data_dir).expanduser(), items=[key])
        from studykit.sources import zotero_api

        return zotero_api.read_library(local=not web, items=[key])
    from studykit.sources.pdf import read_pdf

    return [read_pdf(Path(spec).expanduser(), password=password)]

