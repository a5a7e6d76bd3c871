"""Zotero libraries for tests and benchmarks: a data directory with a real-schema zotero.sqlite.

A library is described once, as a list of papers in the Zotero API's own `data` shape, with
their PDF attachments (`"attachments"`, each with `"annotations"` and optional `"pdf"` bytes)
nested inside. `build_library` writes it to zotero.sqlite + storage/; `tests/zotero_server.py`
serves the same list over HTTP, so both readers can be compared on one library.
A paper with itemType "attachment" is a standalone PDF: its `"annotations"` and `"pdf"` sit on it.
A paper's "library" is a group id (that group's library) or "feed" (an RSS feed library).

What the database holds follows Zotero's schema where studykit reads it (zotero/zotero,
resource/schema/userdata.sql, system.sql, triggers.sql; the `version` row says which userdata
schema: 123 is Zotero 8.0.4's, 129 the one after 10.0.0, the default):
- `libraries.type` is 'user', 'group' or 'feed'; a feed library has a `feeds` row and its items
  `feedItems` rows; a group has a `groups` row; a group item's creator is in `groupItems`
  (createdByUserID, lastModifiedByUserID -> `users`);
- `items` keys are unique per library only (UNIQUE (libraryID, key)), so a feed entry may share a
  real item's key; `itemTypes`/`fields`/`creatorTypes` are the global schema's names;
- `itemAttachments.linkMode` 0-3 (imported file, imported URL, linked file, linked URL:
  chrome/content/zotero/xpcom/attachments.js); `path` is 'storage:NAME' for imported files, an
  absolute path or 'attachments:REL' (relative to the base directory) for linked files;
- `itemAnnotations.type` 1-6 (highlight, note, image, ink, underline, text); `position` is JSON
  with pageIndex and rects (or paths), plus nextPageRects for a highlight that runs on;
- the trash: `deletedItems` for items, `deletedCollections` for collections;
- a date field holds 'YYYY-MM-DD original' (Zotero.Date.multipartToSQL);
- Zotero 10 (chrome/content/zotero/xpcom/db.js after 10.0.0) runs the database in WAL mode with
  exclusive locking, the WAL index on the heap (no -shm) and SQLite's default 1,000-page
  autocheckpoint: `ZoteroRunning` holds it so, with its latest commit only in `zotero.sqlite-wal`.
The copies of userdata.sql and db.js in the source index available here are older revisions
(userdata 77), so the 123/129 layout and the WAL settings follow issue 11's reading of Zotero
after 10.0.0 and Zotero 7's layout; columns studykit does not read are not all checked.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
from pathlib import Path

from studykit.sample_pdf import text_pages

# Columns as in Zotero 7's userdata schema (the tables studykit reads, and a few it skips).
SCHEMA = """
CREATE TABLE version (schema TEXT PRIMARY KEY, version INT NOT NULL);
CREATE TABLE libraries (libraryID INTEGER PRIMARY KEY, type TEXT NOT NULL, editable INT NOT NULL,
    filesEditable INT NOT NULL, version INT NOT NULL DEFAULT 0, storageVersion INT NOT NULL DEFAULT 0,
    lastSync INT NOT NULL DEFAULT 0, archived INT NOT NULL DEFAULT 0);
CREATE TABLE users (userID INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE groups (groupID INTEGER PRIMARY KEY, libraryID INT NOT NULL UNIQUE, name TEXT NOT NULL,
    description TEXT NOT NULL, version INT NOT NULL);
CREATE TABLE groupItems (itemID INTEGER PRIMARY KEY, createdByUserID INT, lastModifiedByUserID INT);
CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT, templateItemTypeID INT, display INT DEFAULT 1);
CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT, fieldFormatID INT);
CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT);
CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT NOT NULL,
    dateAdded TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, dateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, libraryID INT NOT NULL, key TEXT NOT NULL,
    version INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0, UNIQUE (libraryID, key));
CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value UNIQUE);
CREATE TABLE itemData (itemID INT, fieldID INT, valueID, PRIMARY KEY (itemID, fieldID));
CREATE TABLE itemNotes (itemID INTEGER PRIMARY KEY, parentItemID INT, note TEXT, title TEXT);
CREATE TABLE itemAttachments (itemID INTEGER PRIMARY KEY, parentItemID INT, linkMode INT, contentType TEXT,
    charsetID INT, path TEXT, syncState INT DEFAULT 0, storageModTime INT, storageHash TEXT,
    lastProcessedModificationTime INT);
CREATE TABLE itemAnnotations (itemID INTEGER PRIMARY KEY, parentItemID INT NOT NULL, type INTEGER NOT NULL,
    authorName TEXT, text TEXT, comment TEXT, color TEXT, pageLabel TEXT, sortIndex TEXT NOT NULL,
    position TEXT NOT NULL, isExternal INT NOT NULL);
CREATE TABLE tags (tagID INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE itemTags (itemID INT NOT NULL, tagID INT NOT NULL, type INT NOT NULL, PRIMARY KEY (itemID, tagID));
CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT NOT NULL, lastName TEXT NOT NULL,
    fieldMode INT, UNIQUE (lastName, firstName, fieldMode));
CREATE TABLE itemCreators (itemID INT NOT NULL, creatorID INT NOT NULL, creatorTypeID INT NOT NULL DEFAULT 1,
    orderIndex INT NOT NULL DEFAULT 0, PRIMARY KEY (itemID, creatorID, creatorTypeID, orderIndex),
    UNIQUE (itemID, orderIndex));
CREATE TABLE collections (collectionID INTEGER PRIMARY KEY, collectionName TEXT NOT NULL,
    parentCollectionID INT DEFAULT NULL, clientDateModified TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    libraryID INT NOT NULL, key TEXT NOT NULL, version INT NOT NULL DEFAULT 0, synced INT NOT NULL DEFAULT 0,
    UNIQUE (libraryID, key));
CREATE TABLE collectionItems (collectionID INT NOT NULL, itemID INT NOT NULL, orderIndex INT NOT NULL DEFAULT 0,
    PRIMARY KEY (collectionID, itemID));
CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY, dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL);
CREATE TABLE deletedCollections (collectionID INTEGER PRIMARY KEY, dateDeleted DEFAULT CURRENT_TIMESTAMP NOT NULL,
    FOREIGN KEY (collectionID) REFERENCES collections(collectionID) ON DELETE CASCADE);
CREATE TABLE feeds (libraryID INTEGER PRIMARY KEY, name TEXT NOT NULL, url TEXT NOT NULL UNIQUE,
    lastUpdate TIMESTAMP, lastCheck TIMESTAMP, lastCheckError TEXT, cleanupReadAfter INT, cleanupUnreadAfter INT,
    refreshInterval INT, FOREIGN KEY (libraryID) REFERENCES libraries(libraryID) ON DELETE CASCADE);
CREATE TABLE feedItems (itemID INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE, readTime TIMESTAMP,
    translatedTime TIMESTAMP, FOREIGN KEY (itemID) REFERENCES items(itemID) ON DELETE CASCADE);
"""

FEED = "feed"  # a paper's "library" that puts it in the feed library

ITEM_TYPES = ["annotation", "attachment", "note", "journalArticle", "conferencePaper", "preprint", "book", "report"]
CREATOR_TYPES = ["author", "editor", "contributor"]
FIELDS = ["title", "abstractNote", "date", "url", "DOI", "extra", "publicationTitle", "proceedingsTitle",
          "conferenceName", "volume", "pages", "archiveID", "repository", "accessDate"]
LINK_MODES = {"imported_file": 0, "imported_url": 1, "linked_file": 2, "linked_url": 3}
SPEC_ONLY = {"attachments", "annotations", "pdf", "createdByUser", "deleted", "collections", "tags",
             "creators", "key", "itemType", "parentItem", "dateAdded", "dateModified", "version",
             "relations", "linkMode", "contentType", "filename", "charset", "md5", "mtime", "path"}
ANNOTATION_FIELDS = ("annotationType", "annotationAuthorName", "annotationText", "annotationComment",
                     "annotationColor", "annotationPageLabel", "annotationSortIndex", "annotationPosition")
ANNOTATION_TYPE_IDS = {name: i for i, name in enumerate(
    ("highlight", "note", "image", "ink", "underline", "text"), start=1)}


def _sql_time(api_time: str) -> str:
    """'2024-01-05T10:00:00Z' -> '2024-01-05 10:00:00', as Zotero stores it."""
    return api_time.replace("T", " ").removesuffix("Z")


def _multipart_date(date: str) -> str:
    """Zotero keeps a date as 'YYYY-MM-DD original', the first part with 00 for unknown parts."""
    full = re.match(r"(\d{4})-(\d{2})-(\d{2})$", date)
    if full:
        return f"{date} {date}"
    year = re.search(r"\d{4}", date)
    return f"{year.group(0) if year else '0000'}-00-00 {date}"


def build_library(path: Path, papers: list[dict] | None = None, *, n_papers: int = 100,
                  annotations_per_paper: int = 10, collections: list[dict] = (),
                  groups: dict[int, str] | None = None, native_citekey: bool = True,
                  better_bibtex: dict[str, str] | None = None,
                  image_cache: dict[str, bytes] | None = None, schema_version: int = 129,
                  base_dir: Path | None = None) -> Path:
    """Write `papers` (default: `generate_papers(n_papers, annotations_per_paper)`) as a Zotero
    data directory at `path`; returns it.

    A paper's `"library"` (a group id) puts it in that group library instead of the user's.
    `collections`: [{"key", "name", "parentCollection"?, "library"?}] (parents first); `better_bibtex`: item key
    -> citation key for better-bibtex.sqlite; `image_cache`: annotation key -> cached PNG;
    `base_dir`: where a linked file's 'attachments:REL' path points (its "pdf" is written there).
    """
    if papers is None:
        papers = generate_papers(n_papers, annotations_per_paper)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    db = path / "zotero.sqlite"
    db.unlink(missing_ok=True)
    groups = dict(groups or {})
    for paper in papers:
        if paper.get("library") not in (None, FEED):
            groups.setdefault(paper["library"], f"Group {paper['library']}")
    for collection in collections:
        if collection.get("library") not in (None, FEED):
            groups.setdefault(collection["library"], f"Group {collection['library']}")
    collections = list(collections)
    named = {c["key"] for c in collections}
    for paper in papers:  # a collection the papers name but `collections` lacks is called by its key
        for key in paper.get("collections", ()):
            if key not in named:
                named.add(key)
                collections.append({"key": key, "name": key, "library": paper.get("library")})
    writer = _Writer(sqlite3.connect(db), path, groups, native_citekey, schema_version, base_dir)
    try:
        for collection in collections:
            writer.collection(collection)
        for paper in papers:
            writer.paper(paper)
        writer.flush()
    finally:
        writer.conn.close()
    if better_bibtex:
        _write_better_bibtex(path / "better-bibtex.sqlite", writer.item_ids, better_bibtex)
    for key, png in (image_cache or {}).items():
        library_id, _ = writer.item_ids[key]
        group = next((g for g, lib in writer.group_libraries.items() if lib == library_id), None)
        folder = path / "cache" / ("library" if group is None else f"groups/{group}")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{key}.png").write_bytes(png)
    return path


class _Writer:
    """Collects rows for every table, then inserts them in one transaction (fast for 40k rows)."""

    def __init__(self, conn: sqlite3.Connection, data_dir: Path, groups: dict[int, str], native_citekey: bool,
                 schema_version: int, base_dir: Path | None):
        self.conn, self.data_dir, self.base_dir = conn, data_dir, base_dir
        conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        fields = FIELDS + (["citationKey"] if native_citekey else [])
        self.field_ids = {name: i for i, name in enumerate(fields, start=1)}
        self.type_ids = {name: i for i, name in enumerate(ITEM_TYPES, start=1)}
        self.creator_type_ids = {name: i for i, name in enumerate(CREATOR_TYPES, start=1)}
        conn.executemany("INSERT INTO fields VALUES (?, ?, NULL)", [(i, n) for n, i in self.field_ids.items()])
        conn.executemany("INSERT INTO itemTypes VALUES (?, ?, NULL, 1)", [(i, n) for n, i in self.type_ids.items()])
        conn.executemany("INSERT INTO creatorTypes VALUES (?, ?)", [(i, n) for n, i in self.creator_type_ids.items()])
        conn.execute("INSERT INTO version VALUES ('userdata', ?)", (schema_version,))
        conn.execute("INSERT INTO libraries VALUES (1, 'user', 1, 1, 0, 0, 0, 0)")
        self.group_libraries: dict = {}
        for n, (group_id, name) in enumerate(sorted(groups.items()), start=2):
            conn.execute("INSERT INTO libraries VALUES (?, 'group', 1, 1, 0, 0, 0, 0)", (n,))
            conn.execute("INSERT INTO groups VALUES (?, ?, ?, '', 0)", (group_id, n, name))
            self.group_libraries[group_id] = n
        # Every profile has a feed library or several once a feed is subscribed; one is always here.
        feed_library = len(groups) + 2
        conn.execute("INSERT INTO libraries VALUES (?, 'feed', 0, 0, 0, 0, 0, 0)", (feed_library,))
        conn.execute("INSERT INTO feeds (libraryID, name, url) VALUES (?, 'arXiv cs.CV', 'https://rss.arxiv.org/rss/cs.CV')",
                     (feed_library,))
        self.group_libraries[FEED] = feed_library
        self.rows: dict[str, list[tuple]] = {t: [] for t in (
            "items", "itemData", "itemAttachments", "itemAnnotations", "itemCreators", "itemTags",
            "collectionItems", "deletedItems", "groupItems", "feedItems", "deletedCollections")}
        self.values: dict[object, int] = {}
        self.tags: dict[str, int] = {}
        self.creators: dict[tuple, int] = {}
        self.users: dict[int, str] = {}
        self.collection_ids: dict[str, int] = {}
        self.item_ids: dict[str, tuple[int, int]] = {}  # key -> (libraryID, itemID)

    def library_id(self, spec: dict) -> int:
        return self.group_libraries[spec["library"]] if spec.get("library") else 1

    def collection(self, spec: dict) -> None:
        collection_id = len(self.collection_ids) + 1
        parent = self.collection_ids.get(spec.get("parentCollection") or "")
        self.conn.execute(
            "INSERT INTO collections (collectionID, collectionName, parentCollectionID, libraryID, key)"
            " VALUES (?, ?, ?, ?, ?)", (collection_id, spec["name"], parent, self.library_id(spec), spec["key"]))
        if spec.get("deleted"):
            self.rows["deletedCollections"].append((collection_id, "2024-06-01 00:00:00"))
        self.collection_ids[spec["key"]] = collection_id

    def item(self, data: dict, library_id: int, item_type: str) -> int:
        item_id = len(self.rows["items"]) + 1
        self.item_ids[data["key"]] = (library_id, item_id)
        self.rows["items"].append((item_id, self.type_ids[item_type], _sql_time(data["dateAdded"]),
                                   _sql_time(data.get("dateModified", data["dateAdded"])), library_id,
                                   data["key"], data.get("version", 1)))
        for name, value in data.items():
            if name not in SPEC_ONLY and name not in ANNOTATION_FIELDS and name != "library" and value:
                if name not in self.field_ids:
                    raise ValueError(f"field {name!r} is not in this schema")
                stored = _multipart_date(value) if name == "date" else value
                value_id = self.values.setdefault(stored, len(self.values) + 1)
                self.rows["itemData"].append((item_id, self.field_ids[name], value_id))
        for tag in data.get("tags", ()):
            tag_id = self.tags.setdefault(tag["tag"], len(self.tags) + 1)
            self.rows["itemTags"].append((item_id, tag_id, tag.get("type", 0)))
        if data.get("deleted"):
            self.rows["deletedItems"].append((item_id, "2024-06-01 00:00:00"))
        if user := data.get("createdByUser"):
            self.users[user["id"]] = user["username"]
            self.rows["groupItems"].append((item_id, user["id"], user["id"]))
        return item_id

    def paper(self, spec: dict) -> None:
        library_id = self.library_id(spec)
        if spec["itemType"] == "attachment":
            self.attachment(spec, None, library_id)
        else:
            item_id = self.item(spec, library_id, spec["itemType"])
            for order, creator in enumerate(spec.get("creators", ())):
                names = ("", creator["name"], 1) if "name" in creator else (
                    creator.get("firstName", ""), creator.get("lastName", ""), 0)
                creator_id = self.creators.setdefault(names, len(self.creators) + 1)
                self.rows["itemCreators"].append(
                    (item_id, creator_id, self.creator_type_ids[creator["creatorType"]], order))
            for attachment in spec.get("attachments", ()):
                self.attachment(attachment, item_id, library_id)
        for order, key in enumerate(spec.get("collections", ())):
            self.rows["collectionItems"].append((self.collection_ids[key], self.item_ids[spec["key"]][1], order))

    def attachment(self, spec: dict, parent_id: int | None, library_id: int) -> None:
        item_id = self.item(spec, library_id, "attachment")
        link_mode = LINK_MODES[spec.get("linkMode", "imported_file")]
        filename = spec.get("filename", "")
        path = spec.get("path") or (f"storage:{filename}" if filename else None)
        self.rows["itemAttachments"].append(
            (item_id, parent_id, link_mode, spec.get("contentType", "application/pdf"), path))
        if spec.get("pdf") is not None:
            if path.startswith("attachments:"):
                target = self.base_dir / path.removeprefix("attachments:")
            elif link_mode == LINK_MODES["linked_file"]:
                target = Path(path)
            else:
                target = self.data_dir / "storage" / spec["key"] / filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(spec["pdf"])
        for annotation in spec.get("annotations", ()):
            annotation_id = self.item(annotation, library_id, "annotation")
            self.rows["itemAnnotations"].append((
                annotation_id, item_id, ANNOTATION_TYPE_IDS[annotation["annotationType"]],
                annotation.get("annotationAuthorName"), annotation.get("annotationText"),
                annotation.get("annotationComment"), annotation.get("annotationColor"),
                annotation.get("annotationPageLabel"), annotation["annotationSortIndex"],
                annotation["annotationPosition"], 0))

    def flush(self) -> None:
        c = self.conn
        c.executemany("INSERT INTO items (itemID, itemTypeID, dateAdded, dateModified, libraryID, key, version)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?)", self.rows["items"])
        c.executemany("INSERT INTO itemDataValues VALUES (?, ?)", [(i, v) for v, i in self.values.items()])
        c.executemany("INSERT INTO itemData VALUES (?, ?, ?)", self.rows["itemData"])
        c.executemany("INSERT INTO itemAttachments (itemID, parentItemID, linkMode, contentType, path)"
                      " VALUES (?, ?, ?, ?, ?)", self.rows["itemAttachments"])
        c.executemany("INSERT INTO itemAnnotations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      self.rows["itemAnnotations"])
        c.executemany("INSERT INTO creators VALUES (?, ?, ?, ?)",
                      [(i, first, last, mode) for (first, last, mode), i in self.creators.items()])
        c.executemany("INSERT INTO itemCreators VALUES (?, ?, ?, ?)", self.rows["itemCreators"])
        c.executemany("INSERT INTO tags VALUES (?, ?)", [(i, n) for n, i in self.tags.items()])
        c.executemany("INSERT INTO itemTags VALUES (?, ?, ?)", self.rows["itemTags"])
        c.executemany("INSERT INTO collectionItems VALUES (?, ?, ?)", self.rows["collectionItems"])
        c.executemany("INSERT INTO deletedItems VALUES (?, ?)", self.rows["deletedItems"])
        c.executemany("INSERT INTO users VALUES (?, ?)", list(self.users.items()))
        c.executemany("INSERT INTO groupItems VALUES (?, ?, ?)", self.rows["groupItems"])
        c.executemany("INSERT INTO feedItems (itemID, guid) VALUES (?, ?)", self.rows["feedItems"])
        c.executemany("INSERT INTO deletedCollections VALUES (?, ?)", self.rows["deletedCollections"])
        c.commit()


def _write_better_bibtex(path: Path, item_ids: dict[str, tuple[int, int]], keys: dict[str, str]) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE citationkey (itemID NOT NULL PRIMARY KEY, itemKey NOT NULL, libraryID NOT NULL,"
                     " citationKey NOT NULL CHECK (citationKey <> ''), pinned CHECK (pinned in (0, 1)),"
                     " UNIQUE (libraryID, itemKey))")
        conn.executemany("INSERT INTO citationkey VALUES (?, ?, ?, ?, 0)",
                         [(item_ids[k][1], k, item_ids[k][0], v) for k, v in keys.items()])
        conn.commit()
    finally:
        conn.close()


# --- generated libraries -------------------------------------------------------------------

ZOTERO_COLORS = ["#ff6666", "#ffd400", "#2ea8e5", "#5fb236", "#a28ae5", "#f19837", "#aaaaaa", "#e56eee"]
_KEY_CHARS = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"


def make_key(rng: random.Random) -> str:
    """An 8-character key from Zotero's alphabet."""
    return "".join(rng.choice(_KEY_CHARS) for _ in range(8))


def _time(n: int) -> str:
    return f"2024-{1 + n // 40000 % 12:02d}-{1 + n // 1440 % 28:02d}T{n // 60 % 24:02d}:{n % 60:02d}:00Z"


def generate_papers(n_papers: int, annotations_per_paper: int, *, seed: int = 0) -> list[dict]:
    """`n_papers` journal articles, each with one PDF attachment (no file) and its annotations."""
    rng = random.Random(seed)
    used: set[str] = set()

    def key() -> str:
        while (k := make_key(rng)) in used:
            pass
        used.add(k)
        return k

    papers, clock = [], 0
    for i in range(n_papers):
        clock += 3
        annotations = []
        for j in range(annotations_per_paper):
            page, top = j // 8, 700 - 80 * (j % 8)
            kind = "note" if j % 10 == 9 else "highlight"
            annotations.append({
                "key": key(), "itemType": "annotation", "annotationType": kind,
                "annotationText": "" if kind == "note" else f"finding {j} of paper {i}",
                "annotationComment": f"comment {j}" if j % 3 == 0 else "",
                "annotationColor": ZOTERO_COLORS[j % len(ZOTERO_COLORS)],
                "annotationPageLabel": str(page + 1),
                "annotationSortIndex": f"{page:05d}|{j * 100:06d}|{792 - top:05d}",
                "annotationPosition": json.dumps({"pageIndex": page, "rects": [[72.0, top, 300.0, top + 12.0]]}),
                "tags": [{"tag": "#question"}] if j % 17 == 16 else [],
                "dateAdded": _time(clock + j), "dateModified": _time(clock + j),
            })
        papers.append({
            "key": key(), "itemType": "journalArticle", "title": f"Paper {i}: a study of things",
            "creators": [{"creatorType": "author", "firstName": "Ada", "lastName": f"Author{i}"},
                         {"creatorType": "author", "firstName": "Alan", "lastName": "Turing"}],
            "date": f"{2000 + i % 25}-05-01", "publicationTitle": "Journal of Tests",
            "DOI": f"10.1234/test.{i}", "url": f"https://example.org/{i}",
            "abstractNote": "An abstract.", "extra": f"Citation Key: author{i}paper",
            "tags": [{"tag": "generated"}], "collections": [],
            "dateAdded": _time(clock), "dateModified": _time(clock),
            "attachments": [{"key": key(), "itemType": "attachment", "linkMode": "imported_file",
                             "title": "Full Text PDF", "contentType": "application/pdf",
                             "filename": f"paper{i}.pdf", "dateAdded": _time(clock + 1),
                             "dateModified": _time(clock + 1), "annotations": annotations}],
        })
    return papers


# --- a small real library: the ViT paper and friends, with a real PDF ----------------------

PAGE_TEXT = [
    ["An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale",
     "While the Transformer architecture has become the de-facto standard for natural",
     "language processing tasks, its applications to computer vision remain limited.",
     "We split an image into fixed-size patches, linearly embed each of them,",
     "add position embeddings, and feed the resulting sequence of vectors",
     "to a standard Transformer encoder."],
    ["When pre-trained on large amounts of data, Vision Transformer attains",
     "excellent results compared to state-of-the-art convolutional networks.",
     "Transformers lack some of the inductive biases inherent to CNNs,",
     "such as translation equivariance and locality."],
]
PAGE_HEIGHT = 792.0


def make_pdf(pages: list[list[str]] = PAGE_TEXT, *, rotate: int = 0) -> bytes:
    """A letter-size PDF with these lines of text and a filled box (a 'figure') on the last page,
    which is shown turned by `rotate` degrees (its /Rotate)."""
    import pymupdf

    doc = text_pages(pages, size=(612, PAGE_HEIGHT))
    doc[-1].draw_rect(pymupdf.Rect(100, 400, 300, 550), color=(0, 0, 1), fill=(0.2, 0.4, 0.9))
    doc[-1].set_rotation(rotate)
    data = doc.tobytes()
    doc.close()
    return data


def text_position(pdf: bytes, page_index: int, words: str) -> dict:
    """Zotero's annotationPosition for `words`: their line boxes in PDF user space (origin bottom-left)."""
    import pymupdf

    with pymupdf.open(stream=pdf) as doc:
        boxes = doc[page_index].search_for(words)
    assert boxes, words
    return {"pageIndex": page_index,
            "rects": [[round(b.x0, 3), round(PAGE_HEIGHT - b.y1, 3), round(b.x1, 3), round(PAGE_HEIGHT - b.y0, 3)]
                      for b in boxes]}


def _annotation(key: str, kind: str, position: dict, sort_index: str, minute: int, **fields) -> dict:
    data = {"key": key, "itemType": "annotation", "annotationType": kind, "annotationText": "",
            "annotationComment": "", "annotationColor": "#ffd400", "annotationPageLabel": str(position["pageIndex"] + 1),
            "annotationSortIndex": sort_index, "annotationPosition": json.dumps(position),
            "tags": [], "dateAdded": f"2024-03-01T10:{minute:02d}:00Z", "dateModified": f"2024-03-02T10:{minute:02d}:00Z"}
    data.update(fields)
    return data


SAMPLE_COLLECTIONS = [{"key": "COLLVIS1", "name": "Vision"}, {"key": "COLLREAD", "name": "Reading"},
                      {"key": "COLLSUB1", "name": "Transformers", "parentCollection": "COLLVIS1"}]


def sample_papers(pdf: bytes | None = None) -> list[dict]:
    """Five items covering what the readers must handle (kinds, order, trash, standalone PDFs)."""
    pdf = pdf if pdf is not None else make_pdf()
    words = "split an image into fixed-size patches"
    vit_annotations = [
        # listed out of reading order on purpose: the sort index decides
        _annotation("ANNRED02", "highlight", text_position(pdf, 1, "excellent results"), "00001|000080|00212", 5,
                    annotationText="excellent results", annotationColor="#ff6666", annotationPageLabel="2"),
        _annotation("ANNYEL01", "highlight", text_position(pdf, 0, words), "00000|000150|00152", 1,
                    annotationText=words, annotationComment="the core idea"),
        _annotation("ANNBLU03", "underline", text_position(pdf, 0, "add position embeddings"), "00000|000210|00172", 2,
                    annotationText="add position embeddings", annotationColor="#2ea8e5"),
        _annotation("ANNNOTE4", "note", {"pageIndex": 0, "rects": [[500.0, 700.0, 522.0, 722.0]]},
                    "00000|000000|00070", 0, annotationComment="Why 16x16? #question", annotationColor="#e56eee"),
        _annotation("ANNIMG05", "image", {"pageIndex": 1, "rects": [[100.0, 242.0, 300.0, 392.0]]},
                    "00001|000300|00400", 6, annotationComment="Figure: the model", annotationColor="#5fb236"),
        _annotation("ANNINK06", "ink", {"pageIndex": 1, "width": 2,
                                        "paths": [[120.0, 300.0, 200.0, 320.0, 280.0, 300.0]]},
                    "00001|000310|00472", 7, annotationColor="#aaaaaa"),
        _annotation("ANNTXT07", "text", {"pageIndex": 1, "fontSize": 12, "rotation": 0,
                                         "rects": [[350.0, 600.0, 500.0, 620.0]]},
                    "00001|000000|00172", 4, annotationComment="inductive bias!", annotationColor="#f19837"),
        _annotation("ANNMTH08", "highlight", text_position(pdf, 1, "translation equivariance"), "00001|000250|00272", 8,
                    annotationText="translation equivariance", tags=[{"tag": "#method"}, {"tag": "later"}]),
        _annotation("ANNDEL09", "highlight", text_position(pdf, 0, "Transformer encoder"), "00000|000290|00192", 9,
                    annotationText="Transformer encoder", deleted=1),
    ]
    standalone_pdf = make_pdf([["A standalone PDF about attention maps."]])
    return [
        {"key": "VITPAPER", "itemType": "preprint", "title": PAGE_TEXT[0][0],
         "creators": [{"creatorType": "author", "firstName": "Alexey", "lastName": "Dosovitskiy"},
                      {"creatorType": "author", "firstName": "Lucas", "lastName": "Beyer"},
                      {"creatorType": "editor", "firstName": "Ed", "lastName": "Itor"},
                      {"creatorType": "author", "firstName": "Neil", "lastName": "Houlsby"}],
         "date": "2020-10-22", "url": "https://arxiv.org/abs/2010.11929v2", "DOI": "10.48550/arXiv.2010.11929",
         "repository": "arXiv", "archiveID": "arXiv:2010.11929", "abstractNote": "ViT abstract.",
         "citationKey": "dosovitskiy2020image", "tags": [{"tag": "vision"}, {"tag": "transformer"}],
         "collections": ["COLLVIS1"], "dateAdded": "2024-02-01T09:00:00Z", "dateModified": "2024-02-02T09:00:00Z",
         "attachments": [{"key": "VITPDF01", "itemType": "attachment", "linkMode": "imported_file",
                          "title": "Full Text PDF", "contentType": "application/pdf", "filename": "vit.pdf",
                          "dateAdded": "2024-02-01T09:01:00Z", "dateModified": "2024-02-01T09:01:00Z",
                          "pdf": pdf, "annotations": vit_annotations},
                         {"key": "VITSNAP1", "itemType": "attachment", "linkMode": "imported_url",
                          "title": "Snapshot", "contentType": "text/html", "filename": "snapshot.html",
                          "dateAdded": "2024-02-01T09:02:00Z", "dateModified": "2024-02-01T09:02:00Z"}]},
        {"key": "ATTNNEED", "itemType": "conferencePaper", "title": "Attention Is All You Need",
         "creators": [{"creatorType": "author", "firstName": "Ashish", "lastName": "Vaswani"}],
         "date": "December 2017", "proceedingsTitle": "Advances in Neural Information Processing Systems",
         "conferenceName": "NeurIPS", "extra": "Citation Key: vaswani2017attention\narXiv: 1706.03762",
         "tags": [{"tag": "nlp"}], "collections": ["COLLREAD", "COLLSUB1"],
         "dateAdded": "2024-01-15T08:00:00Z", "dateModified": "2024-01-15T08:00:00Z",
         "attachments": [{"key": "ATTNPDF1", "itemType": "attachment", "linkMode": "imported_file",
                          "title": "Full Text PDF", "contentType": "application/pdf", "filename": "attention.pdf",
                          "dateAdded": "2024-01-15T08:01:00Z", "dateModified": "2024-01-15T08:01:00Z",
                          "annotations": [_annotation(
                              "ANNATT01", "highlight", text_position(pdf, 0, "natural"), "00000|000060|00112", 3,
                              annotationText="Scaled dot-product attention", annotationColor="#ffff00")]}]},
        {"key": "TRASHED1", "itemType": "journalArticle", "title": "A paper in the trash", "deleted": 1,
         "tags": [{"tag": "nlp"}], "dateAdded": "2024-01-01T08:00:00Z", "dateModified": "2024-01-01T08:00:00Z",
         "attachments": [{"key": "TRASHPDF", "itemType": "attachment", "linkMode": "imported_file",
                          "title": "Full Text PDF", "contentType": "application/pdf", "filename": "t.pdf",
                          "dateAdded": "2024-01-01T08:01:00Z", "dateModified": "2024-01-01T08:01:00Z",
                          "annotations": [_annotation("ANNTRSH1", "highlight", text_position(pdf, 0, "natural"),
                                                      "00000|000060|00112", 3, annotationText="gone")]}]},
        {"key": "STANDPDF", "itemType": "attachment", "linkMode": "imported_file", "title": "attention-maps.pdf",
         "contentType": "application/pdf", "filename": "attention-maps.pdf", "pdf": standalone_pdf,
         "collections": ["COLLREAD"], "dateAdded": "2024-04-01T08:00:00Z", "dateModified": "2024-04-01T08:00:00Z",
         "annotations": [_annotation("ANNSTD01", "highlight", text_position(standalone_pdf, 0, "attention maps"),
                                     "00000|000020|00092", 11, annotationText="attention maps",
                                     annotationColor="#5fb236")]},
        {"key": "GPTBOOK1", "itemType": "book", "title": "A Book Without PDF",
         "creators": [{"creatorType": "author", "name": "OpenAI"}], "date": "2023",
         "dateAdded": "2024-05-01T08:00:00Z", "dateModified": "2024-05-01T08:00:00Z"},
    ]


# --- Zotero as it really runs: feeds, trash, groups, linked files, rotated pages, WAL --------

GROUP_ID = 4242
GROUP_USERS = ({"id": 77, "username": "ada"}, {"id": 78, "username": "grace"})
REAL_COLLECTIONS = SAMPLE_COLLECTIONS + [
    {"key": "COLLOLD1", "name": "Old reading", "deleted": True},
    {"key": "COLLGRP1", "name": "Group reading", "library": GROUP_ID},
]


def real_papers(linked_dir: Path, pdf: bytes | None = None) -> list[dict]:
    """`sample_papers` and what a real profile also holds: a rotated page with an image annotation
    and a highlight running onto the next page, linked files (absolute and base-relative), feed
    entries (one with a real item's key), a paper in a trashed collection, a group with two users."""
    pdf = pdf if pdf is not None else make_pdf()
    rotated = make_pdf(PAGE_TEXT, rotate=90)
    papers = sample_papers(pdf)
    papers[0]["collections"] = ["COLLVIS1", "COLLOLD1"]  # also in a collection now in the trash
    first, second = text_position(pdf, 0, "to a standard Transformer encoder."), text_position(pdf, 1, "When pre-trained")
    papers += [
        {"key": "ROTPAPER", "itemType": "journalArticle", "title": "A paper with a landscape figure",
         "date": "2021", "tags": [{"tag": "vision"}], "collections": ["COLLVIS1"],
         "dateAdded": "2024-06-01T08:00:00Z", "dateModified": "2024-06-01T08:00:00Z",
         "attachments": [{"key": "ROTPDF01", "itemType": "attachment", "linkMode": "imported_file",
                          "title": "Full Text PDF", "contentType": "application/pdf", "filename": "rotated.pdf",
                          "dateAdded": "2024-06-01T08:01:00Z", "dateModified": "2024-06-01T08:01:00Z",
                          "pdf": rotated, "annotations": [
                              _annotation("ANNROT01", "image", {"pageIndex": 1, "rects": [[100.0, 242.0, 300.0, 392.0]]},
                                          "00001|000300|00400", 20, annotationColor="#5fb236"),
                              _annotation("ANNNEXT1", "highlight", {**first, "nextPageRects": second["rects"]},
                                          "00000|000400|00192", 21, annotationText="to a standard Transformer "
                                          "encoder. When pre-trained", annotationColor="#ff6666")]}]},
        {"key": "LINKABS1", "itemType": "report", "title": "A linked file with an absolute path",
         "date": "2019", "dateAdded": "2024-06-02T08:00:00Z", "dateModified": "2024-06-02T08:00:00Z",
         "attachments": [{"key": "LINKPDF1", "itemType": "attachment", "linkMode": "linked_file",
                          "title": "report.pdf", "contentType": "application/pdf",
                          "path": str(linked_dir / "elsewhere" / "report.pdf"), "pdf": pdf,
                          "dateAdded": "2024-06-02T08:01:00Z", "dateModified": "2024-06-02T08:01:00Z",
                          "annotations": [_annotation("ANNLNK01", "highlight", text_position(pdf, 0, "natural"),
                                                      "00000|000060|00112", 22, annotationText="natural")]}]},
        {"key": "LINKREL1", "itemType": "report", "title": "A linked file under the base directory",
         "date": "2018", "dateAdded": "2024-06-03T08:00:00Z", "dateModified": "2024-06-03T08:00:00Z",
         "attachments": [{"key": "LINKPDF2", "itemType": "attachment", "linkMode": "linked_file",
                          "title": "relative.pdf", "contentType": "application/pdf",
                          "path": "attachments:Papers/relative.pdf", "pdf": pdf,
                          "dateAdded": "2024-06-03T08:01:00Z", "dateModified": "2024-06-03T08:01:00Z",
                          "annotations": [_annotation("ANNLNK02", "image", {"pageIndex": 1, "rects": [[100.0, 242.0, 300.0, 392.0]]},
                                                      "00001|000300|00400", 23)]}]},
        # RSS entries: the same key as a real paper is allowed, since keys are unique per library only
        {"key": "VITPAPER", "itemType": "preprint", "title": "Feed entry: ViT (not a paper of mine)", "library": FEED,
         "dateAdded": "2024-07-01T08:00:00Z", "dateModified": "2024-07-01T08:00:00Z"},
        {"key": "FEEDENT1", "itemType": "journalArticle", "title": "Feed entry: something new", "library": FEED,
         "tags": [{"tag": "vision"}], "dateAdded": "2024-07-02T08:00:00Z", "dateModified": "2024-07-02T08:00:00Z"},
        {"key": "GROUPP01", "itemType": "journalArticle", "title": "A paper the group reads", "library": GROUP_ID,
         "date": "2022", "tags": [{"tag": "vision"}], "collections": ["COLLGRP1"], "createdByUser": GROUP_USERS[0],
         "dateAdded": "2024-08-01T08:00:00Z", "dateModified": "2024-08-01T08:00:00Z",
         "attachments": [{"key": "GROUPPDF", "itemType": "attachment", "linkMode": "imported_file",
                          "title": "Full Text PDF", "contentType": "application/pdf", "filename": "group.pdf",
                          "pdf": pdf, "createdByUser": GROUP_USERS[0],
                          "dateAdded": "2024-08-01T08:01:00Z", "dateModified": "2024-08-01T08:01:00Z",
                          "annotations": [
                              _annotation("ANNGRP01", "highlight", text_position(pdf, 0, "natural"), "00000|000060|00112",
                                          30, annotationText="natural", createdByUser=GROUP_USERS[0]),
                              _annotation("ANNGRP02", "note", {"pageIndex": 0, "rects": [[500.0, 700.0, 522.0, 722.0]]},
                                          "00000|000000|00070", 31, annotationComment="Ask Ada", createdByUser=GROUP_USERS[1]),
                              _annotation("ANNGRP03", "highlight", text_position(pdf, 1, "locality"), "00001|000300|00300",
                                          32, annotationText="locality", annotationAuthorName="Imported Author",
                                          createdByUser=GROUP_USERS[1])]}]},
    ]
    return papers


def write_prefs(profile_root: Path, data_dir: Path, base_dir: Path | None) -> Path:
    """A Zotero profile (profiles.ini + prefs.js) as Zotero writes it, using `data_dir` and `base_dir`."""
    profile = profile_root / "Profiles" / "abcd1234.default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile_root / "profiles.ini").write_text(
        "[General]\nStartWithLastProfile=1\n\n[Profile0]\nName=default\nIsRelative=1\n"
        "Path=Profiles/abcd1234.default\nDefault=1\n", encoding="utf-8")
    lines = ['// Mozilla User Preferences', f'user_pref("extensions.zotero.dataDir", {json.dumps(str(data_dir))});',
             'user_pref("extensions.zotero.useDataDir", true);']
    if base_dir is not None:
        lines.append(f'user_pref("extensions.zotero.baseAttachmentPath", {json.dumps(str(base_dir))});')
    (profile / "prefs.js").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return profile / "prefs.js"


class ZoteroRunning:
    """Zotero 10 with `data_dir` open: WAL mode, exclusive locking, the WAL index on the heap (so
    no -shm), SQLite's default autocheckpoint; what it commits stays in zotero.sqlite-wal until
    a checkpoint or until it quits (chrome/content/zotero/xpcom/db.js)."""

    def __init__(self, data_dir: Path):
        self.db = Path(data_dir) / "zotero.sqlite"

    def __enter__(self) -> ZoteroRunning:
        self.conn = sqlite3.connect(self.db, isolation_level=None)
        self.conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("SELECT count(*) FROM items").fetchone()  # takes the lock, as Zotero's startup does
        return self

    def comment(self, key: str, text: str) -> None:
        """The reader edits an annotation's comment: one committed transaction, as Zotero saves it."""
        with self.conn:
            self.conn.execute("BEGIN")
            self.conn.execute("UPDATE itemAnnotations SET comment = ? WHERE itemID IN"
                              " (SELECT itemID FROM items WHERE key = ?)", (text, key))
            self.conn.execute("UPDATE items SET version = version + 1, synced = 0,"
                              " clientDateModified = CURRENT_TIMESTAMP WHERE key = ?", (key,))

    def checkpoint(self) -> None:
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

    def __exit__(self, *exc) -> None:
        self.conn.close()  # Zotero quits: SQLite checkpoints and removes the -wal
