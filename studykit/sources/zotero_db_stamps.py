"""The database reader's change stamps: a digest of everything a paper's note is made of, computed
without converting an annotation or opening a PDF, so that a re-sync reads only what changed."""

from __future__ import annotations

import json
from pathlib import Path

from studykit.sources.zotero_common import ANNOTATION_TYPES, PICTURE_KINDS, change_stamp, item_order
from studykit.sources.zotero_db_files import DataDirFiles
from studykit.sources.zotero_db_items import Items
from studykit.sources.zotero_db_rows import creators, fields, tags
from vault_export.record import digest


def stamps(items: Items, files: DataDirFiles, selection: dict[int, set[int] | None]) -> dict[str, str]:
    """Paper id -> a digest of the item's fields, creators, tags and citation key, its PDFs and their
    files, its annotations and their tags; in the order the papers are read."""
    ids = json.dumps(list(selection))
    item_fields, item_creators, item_tags = fields(items, ids), creators(items, ids), tags(items, ids)
    pdfs = items.pdfs(selection)
    chosen = json.dumps([a for own in pdfs.values() for a in own])
    edits = {item_id: rest for item_id, *rest in items.conn.execute(
        "SELECT itemID, clientDateModified, version FROM items WHERE itemID IN"
        " (SELECT value FROM json_each(?) UNION SELECT value FROM json_each(?))", (ids, chosen))}
    annotations = _annotation_stamps(items, files, chosen)
    citekeys = files.citation_keys()
    found = []
    for item_id in selection:
        row = items.rows[item_id]
        parts = [tuple(row), edits.get(item_id), item_fields.get(item_id), item_creators.get(item_id),
                 sorted(t["tag"] for t in item_tags.get(item_id, ())), citekeys.get((row.library_id, row.key))]
        for a in pdfs.get(item_id, ()):
            pdf = items.rows[a]
            parts.append((tuple(pdf), edits.get(a), _file_stamp(files.pdf_path(pdf)), annotations.get(a)))
        found.append((item_order({"dateAdded": row.added, "key": row.key}), items.paper_id(item_id), change_stamp(parts)))
    return {paper: stamp for _, paper, stamp in sorted(found)}


def _annotation_stamps(items: Items, files: DataDirFiles, attachment_ids: str) -> dict[int, str]:
    """Attachment itemID -> a digest of its annotations (every column, their tags, cached pictures)."""
    pictures = tuple(ANNOTATION_TYPES.index(kind) + 1 for kind in PICTURE_KINDS)
    rows = items.conn.execute(
        "SELECT parent, group_concat(entry, char(30)), group_concat(picture, char(30)) FROM ("
        " SELECT a.parentItemID AS parent, json_array(i.key, i.dateAdded, i.dateModified, i.clientDateModified,"
        "  i.version, a.type, a.authorName, a.text, a.comment, a.color, a.pageLabel, a.sortIndex, a.position) AS entry,"
        f" CASE WHEN a.type IN ({', '.join('?' * len(pictures))}) THEN i.key || char(31) || i.libraryID END AS picture"
        " FROM itemAnnotations a JOIN items i USING (itemID)"
        " WHERE a.parentItemID IN (SELECT value FROM json_each(?))"
        " AND a.itemID NOT IN (SELECT itemID FROM deletedItems) ORDER BY a.parentItemID, a.itemID)"
        " GROUP BY parent", (*pictures, attachment_ids)).fetchall()
    # One join for all their tags: a subquery per annotation would cost more than the rest together.
    their_tags = dict(items.conn.execute(
        "SELECT a.parentItemID, group_concat(it.itemID || char(31) || t.name, char(30))"
        " FROM itemAnnotations a JOIN itemTags it USING (itemID) JOIN tags t USING (tagID)"
        " WHERE a.parentItemID IN (SELECT value FROM json_each(?)) GROUP BY a.parentItemID", (attachment_ids,)))
    found = {}
    for parent, entries, picture_keys in rows:
        images = []
        for picture in picture_keys.split("\x1e") if picture_keys else ():
            key, _, library = picture.partition("\x1f")
            images.append(_file_stamp(files.cached_image_path(items.libraries[int(library)], key)))
        text = digest(entries.encode("utf-8", "surrogatepass"))
        found[parent] = change_stamp((text, sorted((their_tags.get(parent) or "").split("\x1e")), images))
    return found


def _file_stamp(path: Path | None) -> tuple | None:
    try:
        stat = path.stat() if path is not None else None
    except OSError:
        return None
    return (str(path), stat.st_size, stat.st_mtime_ns) if stat else None
