"""Papers and annotations read straight from a Zotero data directory (zotero.sqlite, storage/).

The database is read lock-free, also while Zotero runs and holds its exclusive lock: in place
with SQLite's immutable URI, or, when Zotero 10's `-wal` holds recent commits, from a private
snapshot copy (`zotero_snapshot`). Its parts: the item index (`zotero_db_items`), the selection
(`zotero_db_select`), rows in the Zotero API's data shape (`zotero_db_rows`), converted by
`zotero_common` like the API reader's, the files beside the database (`zotero_db_files`), and
`change_stamps` (`zotero_db_stamps`), which digests what an item's note is made of without
converting it, so a re-sync reads only the items that changed.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Iterator

from studykit.errors import UserError
from studykit.model import Paper
from studykit.sources import zotero_db_rows
from studykit.sources.zotero_common import AttachmentData, build_paper, item_order
from studykit.sources.zotero_db_files import DataDirFiles
from studykit.sources.zotero_db_items import Items, connect
from studykit.sources.zotero_db_select import select
from studykit.sources.zotero_db_stamps import stamps
from studykit.sources.zotero_snapshot import snapshot


def read_library(data_dir: Path, *, items=(), collections=(), tags=(),
                 only: set[str] | None = None) -> list[Paper]:
    """The papers of the selection (item or attachment keys, collection names or keys, tags;
    nothing selected: every library in the database), with their PDF annotations.
    `only`: just the papers with these ids (the others are not read at all)."""
    with _reading(data_dir) as reader:
        selection = select(reader.items, reader.db, items, collections, tags)
        if only is not None:
            selection = {item: chosen for item, chosen in selection.items() if reader.items.paper_id(item) in only}
        return reader.papers(selection)


def change_stamps(data_dir: Path, *, items=(), collections=(), tags=()) -> dict[str, str]:
    """Paper id -> a digest of everything `read_library` reads for it (the item's fields, creators,
    tags and citation key, its PDFs and their files, its annotations and their tags), in the order
    `read_library` returns them. Cheap: no annotation is converted, no PDF opened."""
    with _reading(data_dir) as reader:
        return stamps(reader.items, reader.files, select(reader.items, reader.db, items, collections, tags))


@contextmanager
def _reading(data_dir: Path) -> Iterator[_Reader]:
    data_dir = Path(data_dir).expanduser()
    db = data_dir / "zotero.sqlite"
    if not db.is_file():
        raise UserError(f"{db}: no Zotero database here (point --zotero-data-dir at the folder "
                        "that holds zotero.sqlite; Zotero shows it in Settings > Advanced > Files and Folders)")
    if db.stat().st_size == 0:
        raise UserError(f"{db}: is empty (0 bytes), not a Zotero database")
    with snapshot(db) as uri, closing(connect(uri, db)) as conn:
        try:
            yield _Reader(db, Items(conn), DataDirFiles(data_dir))
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{db}: cannot be read ({exc})") from None


class _Reader:
    """One open database: its items, the files beside it, and the Papers made of them."""

    def __init__(self, db: Path, items: Items, files: DataDirFiles):
        self.db, self.items, self.files = db, items, files

    def papers(self, selection: dict[int, set[int] | None]) -> list[Paper]:
        """The selected papers, oldest first, with the annotations of their selected PDFs."""
        ids = json.dumps(list(selection))
        fields = zotero_db_rows.fields(self.items, ids)
        creators = zotero_db_rows.creators(self.items, ids)
        item_tags = zotero_db_rows.tags(self.items, ids)
        pdfs = self.items.pdfs(selection)
        annotations = self._annotations(json.dumps([a for own in pdfs.values() for a in own]))
        citekeys = self.files.citation_keys()
        papers = []
        for paper_id in selection:
            row = self.items.rows[paper_id]
            library = self.items.libraries[row.library_id]
            data = {"key": row.key, "itemType": row.kind, "dateAdded": row.added, "dateModified": row.modified,
                    **fields.get(paper_id, {}), "creators": creators.get(paper_id, []),
                    "tags": item_tags.get(paper_id, [])}
            own = sorted((self.items.rows[a] for a in pdfs.get(paper_id, ())), key=lambda pdf: (pdf.added, pdf.key))
            paper = build_paper(
                data, library,
                [AttachmentData(pdf.key, self.files.pdf_path(pdf), annotations.get(pdf.item_id, [])) for pdf in own],
                citekey_fallback=citekeys.get((row.library_id, row.key), ""),
                cached_image=lambda key, lib=library: self.files.cached_image(lib, key))
            paper.warnings += [self.files.no_base_directory(row.key, pdf) for pdf in own
                               if pdf.item_id in self.files.unresolved]
            papers.append((item_order(data), paper))
        return [paper for _, paper in sorted(papers, key=lambda p: p[0])]

    def _annotations(self, attachment_ids: str) -> dict[int, list[dict]]:
        """Attachment itemID -> its annotations in API shape (one query for all)."""
        return zotero_db_rows.annotations(self.items, attachment_ids)
