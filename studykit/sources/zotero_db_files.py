"""What a Zotero data directory keeps beside zotero.sqlite: the PDFs (in storage/KEY/, or linked,
absolute or relative to the linked-file base directory), the cached pictures of image and ink
annotations (cache/), and Better BibTeX's citation keys (better-bibtex.sqlite)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from studykit.errors import UserError
from studykit.sources.zotero_common import Library
from studykit.sources.zotero_db_items import ItemRow
from studykit.sources.zotero_prefs import BASE_PATH_PREF, PREFS_ENV, base_directory

IMPORTED_LINK_MODES = (0, 1)  # imported_file, imported_url: the file sits in storage/KEY/
LINKED_FILE = 2
BASE_PATH_PLACEHOLDER = "attachments:"  # a linked file relative to the base directory (attachments.js)


class DataDirFiles:
    """The files of one data directory; the base directory is looked up once, when first needed."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self._base: tuple[Path | None, Path | None] | None = None
        self.unresolved: dict[int, str] = {}  # attachment itemID -> its `attachments:` path, no base directory known

    def pdf_path(self, row: ItemRow) -> Path | None:
        """The attachment's file, when it is there."""
        stored = row.path or ""
        if row.link_mode in IMPORTED_LINK_MODES and stored.startswith("storage:"):
            path = self.data_dir / "storage" / row.key / stored.removeprefix("storage:")
        elif row.link_mode == LINKED_FILE and stored.startswith(BASE_PATH_PLACEHOLDER):
            base = self._base_directory()
            if base is None:  # the annotations still count; the reader is told (no_base_directory)
                self.unresolved[row.item_id] = stored
                return None
            path = base / stored.removeprefix(BASE_PATH_PLACEHOLDER)
        elif row.link_mode == LINKED_FILE and Path(stored).is_absolute():
            path = Path(stored)
        else:
            return None
        return path if path.is_file() else None

    def _base_directory(self) -> Path | None:
        """Zotero's linked-file base directory from the profile's prefs.js; one that is gone is an error."""
        if self._base is None:
            self._base = base_directory(self.data_dir)
        base, prefs = self._base
        if base is not None and not base.is_dir():
            raise UserError(f"{prefs}: the linked-file base directory {base} ({BASE_PATH_PREF}) does not exist: "
                            "reconnect the drive, or set it again in Zotero Settings > Advanced > Files and Folders")
        return base

    def no_base_directory(self, paper_key: str, attachment: ItemRow) -> str:
        """The warning for a PDF linked relative to a base directory no profile names."""
        _, prefs = self._base
        if prefs is None:
            why = "no Zotero profile was found to say where that is"
        else:
            why = f"{prefs} sets no {BASE_PATH_PREF}" if prefs.is_file() else f"{prefs} does not exist"
        pdf = "it" if attachment.key == paper_key else f"its PDF {attachment.key}"
        return (f"Zotero item {paper_key}: {pdf} is linked as {self.unresolved[attachment.item_id]}, relative to "
                f"Zotero's linked-file base directory, but {why}: the note gets no PDF and no pictures; set "
                f"{PREFS_ENV} to the prefs.js of the Zotero profile that uses {self.data_dir}, or set the base "
                "directory in Zotero Settings > Advanced > Files and Folders")

    def cached_image_path(self, library: Library, key: str) -> Path:
        return self.data_dir / "cache" / library.uri_path / f"{key}.png"

    def cached_image(self, library: Library, key: str) -> bytes | None:
        png = self.cached_image_path(library, key)
        return png.read_bytes() if png.is_file() else None

    def citation_keys(self) -> dict[tuple[int, str], str]:
        """(libraryID, item key) -> citation key from Better BibTeX's own database, if present."""
        bbt = self.data_dir / "better-bibtex.sqlite"
        if not bbt.is_file():
            return {}
        try:
            with closing(sqlite3.connect(bbt.resolve().as_uri() + "?immutable=1", uri=True)) as conn:
                return {(lib, key): citekey for lib, key, citekey in
                        conn.execute("SELECT libraryID, itemKey, citationKey FROM citationkey")}
        except sqlite3.DatabaseError:
            return {}  # an older Better BibTeX layout: the citation key is optional
