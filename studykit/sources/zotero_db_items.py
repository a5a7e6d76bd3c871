"""The open zotero.sqlite: its tables checked, the reader's libraries, and every item that is not
an annotation, indexed by id and by key (few enough to hold, and needed to resolve keys).

Feed libraries (RSS entries) are not the reader's papers and are left out.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

from studykit.errors import UserError
from studykit.sources.zotero_common import Library, is_paper, is_pdf, paper_id

REQUIRED_TABLES = (
    "items", "itemTypes", "itemData", "itemDataValues", "fields", "itemCreators", "creators",
    "creatorTypes", "itemAttachments", "itemAnnotations", "tags", "itemTags", "collections",
    "collectionItems", "deletedItems", "libraries",
)
READER_LIBRARIES = ("user", "group")  # not 'feed': RSS entries are not the reader's papers


class ItemRow(NamedTuple):
    """An item with its attachment columns (None for an item that is no attachment)."""

    item_id: int
    key: str
    library_id: int
    kind: str  # itemTypes.typeName
    added: str
    modified: str
    deleted: bool
    parent: int | None  # itemAttachments.parentItemID
    link_mode: int | None
    content_type: str | None
    path: str | None  # 'storage:NAME', 'attachments:REL' or an absolute path


def connect(uri: str, db: Path) -> sqlite3.Connection:
    """Open the database at `uri` (zotero.sqlite or its snapshot), or say clearly what is wrong with it."""
    conn = sqlite3.connect(uri, uri=True)
    try:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise UserError(f"{db}: not an SQLite database ({exc})") from None
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        conn.close()
        raise UserError(f"{db}: not a Zotero 7 or later database (no table {', '.join(missing)})")
    return conn


class Items:
    """The reader's libraries and their items (annotations aside) in one open database."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        groups = dict(conn.execute("SELECT libraryID, groupID FROM groups")) if self.has("groups") else {}
        self.libraries = {lib: Library("group", groups.get(lib)) if kind == "group" else Library()
                          for lib, kind in conn.execute("SELECT libraryID, type FROM libraries")
                          if kind in READER_LIBRARIES}
        self.library_ids = json.dumps(list(self.libraries))  # for `IN (SELECT value FROM json_each(?))`
        # Every item that is not an annotation. The `+` keeps SQLite scanning items rather than walking
        # its (libraryID, key) index, 4x as slow for a whole library.
        self.rows = {row[0]: ItemRow(*row) for row in conn.execute(
            "SELECT i.itemID, i.key, i.libraryID, t.typeName, i.dateAdded, i.dateModified,"
            " d.itemID IS NOT NULL, a.parentItemID, a.linkMode, a.contentType, a.path"
            " FROM items i JOIN itemTypes t USING (itemTypeID)"
            " LEFT JOIN deletedItems d USING (itemID) LEFT JOIN itemAttachments a USING (itemID)"
            " WHERE t.typeName != 'annotation' AND +i.libraryID IN (SELECT value FROM json_each(?))",
            (self.library_ids,))}
        self.by_key: dict[str, list[ItemRow]] = defaultdict(list)
        for row in self.rows.values():
            self.by_key[row.key].append(row)

    def has(self, table: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                 (table,)).fetchone() is not None

    def is_paper(self, row: ItemRow) -> bool:
        """A regular item, or a PDF with no parent item; neither in the trash."""
        return not row.deleted and is_paper(row.kind, row.parent, row.content_type)

    def is_live_pdf(self, row: ItemRow) -> bool:
        return not row.deleted and is_pdf(row.kind, row.content_type)

    def paper_id(self, item_id: int) -> str:
        row = self.rows[item_id]
        return paper_id(self.libraries[row.library_id], row.key)

    def pdfs(self, selection: dict[int, set[int] | None]) -> dict[int, list[int]]:
        """Paper itemID -> the itemIDs of its selected PDFs that are not in the trash."""
        pdfs: dict[int, list[int]] = defaultdict(list)
        for item_id, row in self.rows.items():
            owner = row.parent if row.parent is not None else item_id
            if owner in selection and self.is_live_pdf(row):
                chosen = selection[owner]
                if chosen is None or item_id in chosen:
                    pdfs[owner].append(item_id)
        return pdfs
