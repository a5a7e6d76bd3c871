"""Papers and annotations read straight from a Zotero data directory (zotero.sqlite, storage/).

The database is read lock-free, also while Zotero runs and holds its exclusive lock: in place
with SQLite's immutable URI, or, when Zotero 10's `-wal` holds recent commits, from a private
snapshot copy (`zotero_snapshot`). Feed libraries (RSS entries) are not the reader's papers and
are skipped. Rows are turned into the Zotero API's data shape and converted by `zotero_common`,
like the API reader's. `change_stamps` digests what an item's note is made of without
converting it, so a re-sync reads only the items that changed.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from contextlib import closing, contextmanager
from pathlib import Path

from studykit.errors import UserError
from studykit.model import Paper
from studykit.sources.zotero_common import (
    ANNOTATION_TYPES, PDF, PICTURE_KINDS, AttachmentData, Library, annotation_author, annotation_selected,
    build_paper, is_paper, item_key, item_order, paper_id,
)
from studykit.sources.zotero_prefs import BASE_PATH_PREF, PREFS_ENV, base_directory
from studykit.sources.zotero_snapshot import snapshot
from vault_export.sync import digest

REQUIRED_TABLES = (
    "items", "itemTypes", "itemData", "itemDataValues", "fields", "itemCreators", "creators",
    "creatorTypes", "itemAttachments", "itemAnnotations", "tags", "itemTags", "collections",
    "collectionItems", "deletedItems", "libraries",
)
IMPORTED_LINK_MODES = (0, 1)  # imported_file, imported_url: the file sits in storage/KEY/
LINKED_FILE = 2
BASE_PATH_PLACEHOLDER = "attachments:"  # a linked file relative to the base directory (attachments.js)
READER_LIBRARIES = ("user", "group")  # not 'feed': RSS entries are not the reader's papers


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


def read_library(data_dir: Path, *, items=(), collections=(), tags=(),
                 only: set[str] | None = None) -> list[Paper]:
    """The papers of the selection (item or attachment keys, collection names or keys, tags;
    nothing selected: every library in the database), with their PDF annotations.
    `only`: just the papers with these ids (the others are not read at all)."""
    with _reading(data_dir) as reader:
        selection = reader.select(items, collections, tags)
        if only is not None:
            selection = {item: chosen for item, chosen in selection.items() if reader.paper_id(item) in only}
        return reader.papers(selection)


def change_stamps(data_dir: Path, *, items=(), collections=(), tags=()) -> dict[str, str]:
    """Paper id -> a digest of everything `read_library` reads for it (the item's fields, creators,
    tags and citation key, its PDFs and their files, its annotations and their tags), in the order
    `read_library` returns them. Cheap: no annotation is converted, no PDF opened."""
    with _reading(data_dir) as reader:
        return reader.stamps(reader.select(items, collections, tags))


@contextmanager
def _reading(data_dir: Path):
    data_dir = Path(data_dir).expanduser()
    db = data_dir / "zotero.sqlite"
    if not db.is_file():
        raise UserError(f"{db}: no Zotero database here (point --zotero-data-dir at the folder "
                        "that holds zotero.sqlite; Zotero shows it in Settings > Advanced > Files and Folders)")
    if db.stat().st_size == 0:
        raise UserError(f"{db}: is empty (0 bytes), not a Zotero database")
    with snapshot(db) as uri, closing(connect(uri, db)) as conn:
        try:
            yield _Reader(conn, data_dir)
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{db}: cannot be read ({exc})") from None


def _digest(value) -> str:
    return digest(repr(value).encode("utf-8", "surrogatepass"))


def _file_stamp(path: Path | None) -> tuple | None:
    try:
        stat = path.stat() if path is not None else None
    except OSError:
        return None
    return (str(path), stat.st_size, stat.st_mtime_ns) if stat else None


def _multipart_to_str(value: str) -> str:
    """Zotero stores dates as 'YYYY-MM-DD original'; the API shows the original."""
    if len(value) > 11 and value[4] == "-" and value[7] == "-" and value[10] == " ":
        return value[11:]
    return value


class _Reader:
    def __init__(self, conn: sqlite3.Connection, data_dir: Path):
        self.conn, self.data_dir = conn, data_dir
        self._base: tuple[Path | None, Path | None] | None = None
        self.unresolved: dict[int, str] = {}  # attachment itemID -> its `attachments:` path, no base directory known
        groups = dict(conn.execute("SELECT libraryID, groupID FROM groups")) if self._has("groups") else {}
        self.libraries = {lib: Library("group", groups.get(lib)) if kind == "group" else Library()
                          for lib, kind in conn.execute("SELECT libraryID, type FROM libraries")
                          if kind in READER_LIBRARIES}
        readable = json.dumps(list(self.libraries))
        # Every item that is not an annotation: few enough to hold, and needed to resolve keys. The `+` keeps
        # SQLite scanning items rather than walking its (libraryID, key) index, 4x as slow for a whole library.
        self.items = {row[0]: row for row in conn.execute(
            "SELECT i.itemID, i.key, i.libraryID, t.typeName, i.dateAdded, i.dateModified,"
            " d.itemID IS NOT NULL, a.parentItemID, a.linkMode, a.contentType, a.path"
            " FROM items i JOIN itemTypes t USING (itemTypeID)"
            " LEFT JOIN deletedItems d USING (itemID) LEFT JOIN itemAttachments a USING (itemID)"
            " WHERE t.typeName != 'annotation' AND +i.libraryID IN (SELECT value FROM json_each(?))", (readable,))}
        self.by_key = defaultdict(list)
        for row in self.items.values():
            self.by_key[row[1]].append(row)

    def _has(self, table: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                 (table,)).fetchone() is not None

    def _is_paper(self, row) -> bool:
        """A regular item, or a PDF with no parent item; neither in the trash."""
        _, _, _, kind, _, _, deleted, parent, _, content_type, _ = row
        return not deleted and is_paper(kind, parent, content_type)

    def select(self, keys, collections, tags) -> dict[int, set[int] | None]:
        """Paper itemID -> the attachment itemIDs to read (None: all its PDFs)."""
        if not (keys or collections or tags):
            return {item_id: None for item_id, row in self.items.items() if self._is_paper(row)}
        selection: dict[int, set[int] | None] = {}
        for key in keys:
            for paper_id, attachment_id in self._resolve_key(item_key(key)):
                if attachment_id is None or selection.get(paper_id, set()) is None:
                    selection[paper_id] = None
                else:
                    selection.setdefault(paper_id, set()).add(attachment_id)
        trashed = "SELECT collectionID FROM deletedCollections" if self._has("deletedCollections") else "SELECT NULL"
        live = self.conn.execute(
            "SELECT collectionID, key, collectionName FROM collections WHERE collectionID NOT IN"
            f" ({trashed}) AND libraryID IN (SELECT value FROM json_each(?))", (json.dumps(list(self.libraries)),)
        ).fetchall()
        for wanted in collections:
            found = [cid for cid, key, name in live if wanted in (key, name)]
            if not found:
                names = sorted({name for _, _, name in live})
                raise UserError(f"no Zotero collection named or keyed {wanted!r} "
                                f"(collections: {', '.join(names) or 'none'})")
            for (item_id,) in self.conn.execute(
                    "SELECT itemID FROM collectionItems WHERE collectionID IN (SELECT value FROM json_each(?))",
                    (json.dumps(found),)):
                if item_id in self.items and self._is_paper(self.items[item_id]):
                    selection[item_id] = None
        for tag in tags:
            rows = self.conn.execute("SELECT it.itemID FROM itemTags it JOIN tags t USING (tagID) WHERE t.name = ?",
                                     (tag,)).fetchall()
            if not rows:
                raise UserError(f"no Zotero item has the tag {tag!r}")
            for (item_id,) in rows:
                if item_id in self.items and self._is_paper(self.items[item_id]):
                    selection[item_id] = None
        return selection

    def _resolve_key(self, key: str) -> list[tuple[int, int | None]]:
        rows = self.by_key.get(key) or self._annotation_rows(key)
        if not rows:
            raise UserError(f"no Zotero item with key {key} in {self.data_dir / 'zotero.sqlite'}")
        found = []
        for row in rows:
            item_id, _, _, kind, _, _, deleted, parent, _, content_type, _ = row
            if deleted or (parent is not None and self.items[parent][6]):
                raise UserError(f"Zotero item {key} is in the trash")
            if kind == "annotation":
                raise UserError(annotation_selected(key, *self._annotation_owner(item_id)))
            if self._is_paper(row):
                found.append((item_id, None))
            elif kind == "attachment" and content_type == PDF:
                found.append((parent, item_id))
            else:
                raise UserError(f"Zotero item {key} is not a paper or a PDF attachment (it is a {kind})")
        return found

    def _annotation_rows(self, key: str) -> list[tuple]:
        """An annotation's key, shaped like `self.items` rows, so selecting it can be told apart."""
        return [(item_id, key, library, "annotation", None, None, False, parent, None, None, None)
                for item_id, library, parent in self.conn.execute(
                    "SELECT i.itemID, i.libraryID, a.parentItemID FROM items i JOIN itemAnnotations a USING (itemID)"
                    " WHERE i.key = ?", (key,)) if library in self.libraries]

    def _annotation_owner(self, item_id: int) -> tuple[str, str | None]:
        """(attachment key, paper key or None) of an annotation."""
        (attachment,) = self.conn.execute("SELECT parentItemID FROM itemAnnotations WHERE itemID = ?",
                                          (item_id,)).fetchone()
        row = self.items[attachment]
        return row[1], self.items[row[7]][1] if row[7] is not None else None

    def paper_id(self, item_id: int) -> str:
        row = self.items[item_id]
        return paper_id(self.libraries[row[2]], row[1])

    def _attachments(self, selection: dict[int, set[int] | None]) -> dict[int, list[int]]:
        """Paper itemID -> the itemIDs of its selected PDFs that are not in the trash."""
        attachments: dict[int, list[int]] = defaultdict(list)
        for item_id, row in self.items.items():
            parent = row[7]
            owner = parent if parent is not None else item_id
            if row[3] == "attachment" and row[9] == PDF and not row[6] and owner in selection:
                chosen = selection[owner]
                if chosen is None or item_id in chosen:
                    attachments[owner].append(item_id)
        return attachments

    def stamps(self, selection: dict[int, set[int] | None]) -> dict[str, str]:
        ids = json.dumps(list(selection))
        fields, creators, item_tags = self._fields(ids), self._creators(ids), self._tags(ids)
        attachments = self._attachments(selection)
        chosen = json.dumps([a for own in attachments.values() for a in own])
        edits = {item_id: rest for item_id, *rest in self.conn.execute(
            "SELECT itemID, clientDateModified, version FROM items WHERE itemID IN"
            " (SELECT value FROM json_each(?) UNION SELECT value FROM json_each(?))", (ids, chosen))}
        annotations = self._annotation_stamps(chosen)
        citekeys = self._better_bibtex()
        stamps = []
        for item_id in selection:
            row = self.items[item_id]
            parts = [row, edits.get(item_id), fields.get(item_id), creators.get(item_id),
                     sorted(t["tag"] for t in item_tags.get(item_id, ())), citekeys.get((row[2], row[1]))]
            for a in attachments.get(item_id, ()):
                parts.append((self.items[a], edits.get(a), _file_stamp(self._pdf_path(self.items[a])), annotations.get(a)))
            stamps.append((item_order({"dateAdded": row[4], "key": row[1]}), self.paper_id(item_id), _digest(parts)))
        return {paper: stamp for _, paper, stamp in sorted(stamps)}

    def _annotation_stamps(self, attachment_ids: str) -> dict[int, str]:
        """Attachment itemID -> a digest of its annotations (every column, their tags, cached pictures)."""
        pictures = tuple(ANNOTATION_TYPES.index(kind) + 1 for kind in PICTURE_KINDS)
        rows = self.conn.execute(
            "SELECT parent, group_concat(entry, char(30)), group_concat(picture, char(30)) FROM ("
            " SELECT a.parentItemID AS parent, json_array(i.key, i.dateAdded, i.dateModified, i.clientDateModified,"
            "  i.version, a.type, a.authorName, a.text, a.comment, a.color, a.pageLabel, a.sortIndex, a.position) AS entry,"
            f" CASE WHEN a.type IN ({', '.join('?' * len(pictures))}) THEN i.key || char(31) || i.libraryID END AS picture"
            " FROM itemAnnotations a JOIN items i USING (itemID)"
            " WHERE a.parentItemID IN (SELECT value FROM json_each(?))"
            " AND a.itemID NOT IN (SELECT itemID FROM deletedItems) ORDER BY a.parentItemID, a.itemID)"
            " GROUP BY parent", (*pictures, attachment_ids)).fetchall()
        # One join for all their tags: a subquery per annotation would cost more than the rest together.
        tags = dict(self.conn.execute(
            "SELECT a.parentItemID, group_concat(it.itemID || char(31) || t.name, char(30))"
            " FROM itemAnnotations a JOIN itemTags it USING (itemID) JOIN tags t USING (tagID)"
            " WHERE a.parentItemID IN (SELECT value FROM json_each(?)) GROUP BY a.parentItemID", (attachment_ids,)))
        stamps = {}
        for parent, entries, picture_keys in rows:
            images = []
            for picture in picture_keys.split("\x1e") if picture_keys else ():
                key, _, library = picture.partition("\x1f")
                images.append(_file_stamp(self._cached_image_path(self.libraries[int(library)], key)))
            text = digest(entries.encode("utf-8", "surrogatepass"))
            stamps[parent] = _digest((text, sorted((tags.get(parent) or "").split("\x1e")), images))
        return stamps

    def papers(self, selection: dict[int, set[int] | None]) -> list[Paper]:
        ids = json.dumps(list(selection))
        fields = self._fields(ids)
        creators = self._creators(ids)
        item_tags = self._tags(ids)
        attachments = self._attachments(selection)
        annotations = self._annotations(json.dumps([a for ids_ in attachments.values() for a in ids_]))
        citekeys = self._better_bibtex()
        papers = []
        for paper_id in selection:
            item_id, key, library_id, kind, added, modified = self.items[paper_id][:6]
            library = self.libraries[library_id]
            data = {"key": key, "itemType": kind, "dateAdded": added, "dateModified": modified,
                    **fields.get(paper_id, {}), "creators": creators.get(paper_id, []),
                    "tags": item_tags.get(paper_id, [])}
            own = sorted(attachments.get(paper_id, ()), key=lambda a: (self.items[a][4], self.items[a][1]))
            paper = build_paper(
                data, library,
                [AttachmentData(self.items[a][1], self._pdf_path(self.items[a]), annotations.get(a, []))
                 for a in own],
                citekey_fallback=citekeys.get((library_id, key), ""),
                cached_image=lambda k, lib=library: self._cached_image(lib, k))
            paper.warnings += [self._no_base_directory(key, a) for a in own if a in self.unresolved]
            papers.append((item_order(data), paper))
        return [paper for _, paper in sorted(papers, key=lambda p: p[0])]

    def _fields(self, ids: str) -> dict[int, dict]:
        fields: dict[int, dict] = defaultdict(dict)
        for item_id, name, value in self.conn.execute(
                "SELECT d.itemID, f.fieldName, v.value FROM itemData d JOIN fields f USING (fieldID)"
                " JOIN itemDataValues v USING (valueID) WHERE d.itemID IN (SELECT value FROM json_each(?))", (ids,)):
            fields[item_id][name] = _multipart_to_str(str(value)) if name == "date" else str(value)
        return fields

    def _creators(self, ids: str) -> dict[int, list[dict]]:
        creators: dict[int, list[dict]] = defaultdict(list)
        for item_id, first, last, mode, kind in self.conn.execute(
                "SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ct.creatorType FROM itemCreators ic"
                " JOIN creators c USING (creatorID) JOIN creatorTypes ct USING (creatorTypeID)"
                " WHERE ic.itemID IN (SELECT value FROM json_each(?)) ORDER BY ic.itemID, ic.orderIndex", (ids,)):
            creators[item_id].append({"creatorType": kind, "name": last} if mode == 1
                                     else {"creatorType": kind, "firstName": first, "lastName": last})
        return creators

    def _tags(self, ids: str) -> dict[int, list[dict]]:
        tags: dict[int, list[dict]] = defaultdict(list)
        for item_id, name in self.conn.execute(
                "SELECT it.itemID, t.name FROM itemTags it JOIN tags t USING (tagID)"
                " WHERE it.itemID IN (SELECT value FROM json_each(?))", (ids,)):
            tags[item_id].append({"tag": name})
        return tags

    def _annotations(self, attachment_ids: str) -> dict[int, list[dict]]:
        """Attachment itemID -> its annotations (not in the trash) in API shape."""
        authors = ("LEFT JOIN groupItems g ON g.itemID = i.itemID LEFT JOIN users u ON u.userID = g.createdByUserID"
                   if self._has("groupItems") and self._has("users") else "")
        rows = self.conn.execute(
            f"SELECT a.itemID, a.parentItemID, i.key, a.type, a.authorName, a.text, a.comment, a.color,"
            f" a.pageLabel, a.sortIndex, a.position, i.dateAdded, i.dateModified, {'u.name' if authors else 'NULL'}"
            f" FROM itemAnnotations a JOIN items i USING (itemID) {authors}"
            " WHERE a.parentItemID IN (SELECT value FROM json_each(?))"
            " AND a.itemID NOT IN (SELECT itemID FROM deletedItems)", (attachment_ids,)).fetchall()
        tags = self._tags(json.dumps([r[0] for r in rows]))
        annotations: dict[int, list[dict]] = defaultdict(list)
        for (item_id, parent, key, kind, author, text, comment, color, label, sort_index, position,
             added, modified, user) in rows:
            library = self.libraries[self.items[parent][2]]
            annotations[parent].append({
                "key": key, "annotationType": ANNOTATION_TYPES[kind - 1] if 0 < kind <= 6 else "note",
                "annotationAuthorName": annotation_author({"annotationAuthorName": author}, library, user),
                "annotationText": text or "",
                "annotationComment": comment or "", "annotationColor": color or "",
                "annotationPageLabel": label or "", "annotationSortIndex": sort_index,
                "annotationPosition": position, "tags": tags.get(item_id, []),
                "dateAdded": added, "dateModified": modified,
            })
        return annotations

    def _pdf_path(self, row) -> Path | None:
        key, link_mode, stored = row[1], row[8], row[10] or ""
        if link_mode in IMPORTED_LINK_MODES and stored.startswith("storage:"):
            path = self.data_dir / "storage" / key / stored.removeprefix("storage:")
        elif link_mode == LINKED_FILE and stored.startswith(BASE_PATH_PLACEHOLDER):
            base = self._base_directory()
            if base is None:  # the annotations still count; the reader is told (_no_base_directory)
                self.unresolved[row[0]] = stored
                return None
            path = base / stored.removeprefix(BASE_PATH_PLACEHOLDER)
        elif link_mode == LINKED_FILE and Path(stored).is_absolute():
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

    def _no_base_directory(self, paper_key: str, attachment_id: int) -> str:
        """The warning for a PDF linked relative to a base directory no profile names."""
        _, prefs = self._base
        if prefs is None:
            why = "no Zotero profile was found to say where that is"
        else:
            why = f"{prefs} sets no {BASE_PATH_PREF}" if prefs.is_file() else f"{prefs} does not exist"
        key = self.items[attachment_id][1]
        pdf = "it" if key == paper_key else f"its PDF {key}"
        return (f"Zotero item {paper_key}: {pdf} is linked as {self.unresolved[attachment_id]}, relative to "
                f"Zotero's linked-file base directory, but {why}: the note gets no PDF and no pictures; set "
                f"{PREFS_ENV} to the prefs.js of the Zotero profile that uses {self.data_dir}, or set the base "
                "directory in Zotero Settings > Advanced > Files and Folders")

    def _cached_image_path(self, library: Library, key: str) -> Path:
        folder = "library" if library.type == "user" else f"groups/{library.group_id}"
        return self.data_dir / "cache" / folder / f"{key}.png"

    def _cached_image(self, library: Library, key: str) -> bytes | None:
        png = self._cached_image_path(library, key)
        return png.read_bytes() if png.is_file() else None

    def _better_bibtex(self) -> dict[tuple[int, str], str]:
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
