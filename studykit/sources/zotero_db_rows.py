"""The database's rows in the Zotero API's data shape: an item's fields, creators and tags, a PDF's
annotations, so that `zotero_common` converts them as it converts the API's answers.

Each query takes its itemIDs as one JSON array (`IN (SELECT value FROM json_each(?))`): one
statement for any number of items.
"""

from __future__ import annotations

import json
from collections import defaultdict

from studykit.sources.zotero_common import ANNOTATION_TYPES, annotation_author
from studykit.sources.zotero_db_items import Items


def multipart_to_str(value: str) -> str:
    """Zotero stores dates as 'YYYY-MM-DD original'; the API shows the original."""
    if len(value) > 11 and value[4] == "-" and value[7] == "-" and value[10] == " ":
        return value[11:]
    return value


def fields(items: Items, ids: str) -> dict[int, dict]:
    """itemID -> {field name: value} (title, date, DOI, extra, ...)."""
    found: dict[int, dict] = defaultdict(dict)
    for item_id, name, value in items.conn.execute(
            "SELECT d.itemID, f.fieldName, v.value FROM itemData d JOIN fields f USING (fieldID)"
            " JOIN itemDataValues v USING (valueID) WHERE d.itemID IN (SELECT value FROM json_each(?))", (ids,)):
        found[item_id][name] = multipart_to_str(str(value)) if name == "date" else str(value)
    return found


def creators(items: Items, ids: str) -> dict[int, list[dict]]:
    """itemID -> its creators in order, each a person (first and last name) or one name (fieldMode 1)."""
    found: dict[int, list[dict]] = defaultdict(list)
    for item_id, first, last, mode, kind in items.conn.execute(
            "SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ct.creatorType FROM itemCreators ic"
            " JOIN creators c USING (creatorID) JOIN creatorTypes ct USING (creatorTypeID)"
            " WHERE ic.itemID IN (SELECT value FROM json_each(?)) ORDER BY ic.itemID, ic.orderIndex", (ids,)):
        found[item_id].append({"creatorType": kind, "name": last} if mode == 1
                              else {"creatorType": kind, "firstName": first, "lastName": last})
    return found


def tags(items: Items, ids: str) -> dict[int, list[dict]]:
    """itemID -> its tags, [{"tag": name}, ...]."""
    found: dict[int, list[dict]] = defaultdict(list)
    for item_id, name in items.conn.execute(
            "SELECT it.itemID, t.name FROM itemTags it JOIN tags t USING (tagID)"
            " WHERE it.itemID IN (SELECT value FROM json_each(?))", (ids,)):
        found[item_id].append({"tag": name})
    return found


def annotations(items: Items, attachment_ids: str) -> dict[int, list[dict]]:
    """Attachment itemID -> its annotations (not in the trash), their authors and tags."""
    authors = ("LEFT JOIN groupItems g ON g.itemID = i.itemID LEFT JOIN users u ON u.userID = g.createdByUserID"
               if items.has("groupItems") and items.has("users") else "")
    rows = items.conn.execute(
        f"SELECT a.itemID, a.parentItemID, i.key, a.type, a.authorName, a.text, a.comment, a.color,"
        f" a.pageLabel, a.sortIndex, a.position, i.dateAdded, i.dateModified, {'u.name' if authors else 'NULL'}"
        f" FROM itemAnnotations a JOIN items i USING (itemID) {authors}"
        " WHERE a.parentItemID IN (SELECT value FROM json_each(?))"
        " AND a.itemID NOT IN (SELECT itemID FROM deletedItems)", (attachment_ids,)).fetchall()
    their_tags = tags(items, json.dumps([r[0] for r in rows]))
    found: dict[int, list[dict]] = defaultdict(list)
    for (item_id, parent, key, kind, author, text, comment, color, label, sort_index, position,
         added, modified, user) in rows:
        library = items.libraries[items.rows[parent].library_id]
        found[parent].append({
            "key": key, "annotationType": ANNOTATION_TYPES[kind - 1] if 0 < kind <= 6 else "note",
            "annotationAuthorName": annotation_author({"annotationAuthorName": author}, library, user),
            "annotationText": text or "",
            "annotationComment": comment or "", "annotationColor": color or "",
            "annotationPageLabel": label or "", "annotationSortIndex": sort_index,
            "annotationPosition": position, "tags": their_tags.get(item_id, []),
            "dateAdded": added, "dateModified": modified,
        })
    return found
