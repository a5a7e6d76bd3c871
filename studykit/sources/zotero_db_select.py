"""The database reader's selection: item or attachment keys, collection names or keys, tags -> the
papers to read and, for each, the PDFs (`zotero_selection` says what a key picks)."""

from __future__ import annotations

import json
from pathlib import Path

from studykit.sources.zotero_common import item_key
from studykit.sources.zotero_db_items import ItemRow, Items
from studykit.sources.zotero_selection import add_pick, no_collection, no_item, no_tag, what_key_picks


def select(items: Items, db: Path, keys, collections, tags) -> dict[int, set[int] | None]:
    """Paper itemID -> the attachment itemIDs to read (None: all its PDFs); nothing selected: every paper."""
    if not (keys or collections or tags):
        return {item_id: None for item_id, row in items.rows.items() if items.is_paper(row)}
    selection: dict[int, set[int] | None] = {}
    for key in keys:
        for row in _rows_of(items, db, item_key(key)):
            parent_trashed = row.parent is not None and items.rows[row.parent].deleted
            picked = what_key_picks(row.key, row.kind, row.parent, row.content_type, row.deleted or parent_trashed,
                                    lambda: _annotation_owner(items, row.item_id))
            if picked == "paper":
                add_pick(selection, row.item_id)
            else:
                add_pick(selection, row.parent, row.item_id)
    trashed = "SELECT collectionID FROM deletedCollections" if items.has("deletedCollections") else "SELECT NULL"
    live = items.conn.execute(
        "SELECT collectionID, key, collectionName FROM collections WHERE collectionID NOT IN"
        f" ({trashed}) AND libraryID IN (SELECT value FROM json_each(?))", (items.library_ids,)).fetchall()
    for wanted in collections:
        found = [cid for cid, key, name in live if wanted in (key, name)]
        if not found:
            raise no_collection(wanted, {name for _, _, name in live})
        _pick_papers(items, selection, items.conn.execute(
            "SELECT itemID FROM collectionItems WHERE collectionID IN (SELECT value FROM json_each(?))",
            (json.dumps(found),)).fetchall())
    for tag in tags:
        rows = items.conn.execute("SELECT it.itemID FROM itemTags it JOIN tags t USING (tagID) WHERE t.name = ?",
                                  (tag,)).fetchall()
        if not rows:
            raise no_tag(tag)
        _pick_papers(items, selection, rows)
    return selection


def _pick_papers(items: Items, selection: dict[int, set[int] | None], found: list[tuple[int]]) -> None:
    """The papers among the items a collection or tag holds, picked whole."""
    for (item_id,) in found:
        if item_id in items.rows and items.is_paper(items.rows[item_id]):
            add_pick(selection, item_id)


def _rows_of(items: Items, db: Path, key: str) -> list[ItemRow]:
    """The items with this key in the reader's libraries; an annotation's key too, so that selecting
    it can be told apart."""
    rows = items.by_key.get(key) or [
        ItemRow(item_id, key, library, "annotation", "", "", False, parent, None, None, None)
        for item_id, library, parent in items.conn.execute(
            "SELECT i.itemID, i.libraryID, a.parentItemID FROM items i JOIN itemAnnotations a USING (itemID)"
            " WHERE i.key = ?", (key,)) if library in items.libraries]
    if not rows:
        raise no_item(key, str(db))
    return rows


def _annotation_owner(items: Items, item_id: int) -> tuple[str, str | None]:
    """(attachment key, paper key or None) of an annotation."""
    (attachment,) = items.conn.execute("SELECT parentItemID FROM itemAnnotations WHERE itemID = ?",
                                       (item_id,)).fetchone()
    row = items.rows[attachment]
    return row.key, items.rows[row.parent].key if row.parent is not None else None
