"""A Zotero API v3 server for tests that answers the way Zotero's own local API does.

It serves the libraries of a `zotero_fixture` description (papers with nested attachments and
annotations; a paper's "library" puts it in a group or a feed), all from one port, under the
local API's /api/users/0/... and /api/groups/ID/... and the web API's /users/ID/... and
/groups/ID/.... Each behaviour is Zotero's, from zotero/zotero (after tag 10.0.0):

From chrome/content/zotero/xpcom/server/server_localAPI.js:
- one server holds every library: each item, collection and file route is registered twice,
  `/api/users/:userID/...` (the user's library) and `/api/groups/:groupID/...` (that group's);
  `/api/users/:userID/groups` lists the groups (Zotero.Groups.getAll, the LocalAPI.Groups
  endpoint) and `/api/groups/:groupID` is one; a group Zotero does not have is a 404; a feed is
  no group, so its library is not served at all;
- the local API switched off answers 403 "Local API is not enabled";
- a user id other than 0 (or the logged-in user's) is a 400 ("Only data for the logged-in
  user is available locally -- use userID 0"); an unknown group is a 404;
- listings have no default limit and no cap (`start`/`limit` only when asked); the web API
  pages by 25, at most 100;
- default sort dateModified descending (other date sorts descending too, the rest ascending);
  `sort`, `direction` honoured, anything else a 400;
- `since` keeps objects with `version > since` (not a number: 400); `format=keys` (text, one per
  line) and `format=versions` (key -> version); `If-Modified-Since-Version` answers 304 when the
  library version is not newer;
- `Last-Modified-Version` is the library's for a listing and the object's for one object;
  `Total-Results`; `Link` with first, prev, next, last (buildLinks); every answer carries
  `Zotero-API-Version` and `Zotero-Schema-Version`;
- `/items/KEY/children` is a key search with includeChildren, the parent filtered out;
  `/collections/KEY/items` adds the condition itemType isNot annotation; `/items/KEY/file/view/url`
  answers the file URL (400 "Not a file attachment" otherwise); `itemKey=A,B` scopes a listing.
From chrome/content/zotero/xpcom/data/search.js (the trash conditions and the "TEMP" union read
in the indexed copy; what includeChildren brings as issue 11 reads Zotero after 10.0.0):
- includeChildren brings child attachments and notes, never annotations: an attachment's
  annotations come only when the item type is asked for (`itemType=annotation`); a negated
  item type condition lets annotations through (its "TEMP" union);
- trash: deleted items, the children of deleted items and the annotations of a deleted
  attachment (or of an attachment of a deleted item) are left out unless `includeTrashed=1`;
- Zotero.Collections leaves trashed collections out (deletedCollections).
From Zotero.Group's toResponseJSON (chrome/content/zotero/xpcom/data/group.js; the shape as
Zotero 10.0.1 answers it, since the stored copy of group.js predates toResponseJSON):
- a group is {id, version, links, meta: {numItems}, data: {id, version, name, description}}.
From chrome/content/zotero/xpcom/data/item.js (toJSON / toResponseJSON) and dataObject.js:
- `deleted` is `true`, present only on a trashed item; `annotationText` only on highlights and
  underlines; `annotationAuthorName` only when set; `meta.numChildren` counts attachments and
  notes only (regular items); `links` has self, alternate, up (child items), enclosure (file
  attachments: href, type, title, length) and attachment (a regular item's best attachment);
  file attachments carry charset, filename, md5 and mtime, linked files their `path`;
- `meta.createdByUser` exists only in the web API (the dataserver); the local API has no such field.
From pyzotero's client (its documentation of the Zotero 10 local API):
- every local answer carries `Zotero-Server-ID`; a request that sends another server's id gets 412.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

NOT_DATA = {"attachments", "annotations", "pdf", "createdByUser", "library", "deleted"}
SCHEMA_VERSION = "37"  # the global schema version Zotero 10 reports
TEXT_KINDS = ("highlight", "underline")  # the annotation types that carry annotationText
SORTS = ("dateAdded", "dateModified", "title", "creator", "itemType", "date", "publisher", "publicationTitle",
         "journalAbbreviation", "language", "accessDate", "libraryCatalog", "callNumber", "rights", "addedBy",
         "numItems")
WEB_PAGE, WEB_MAX = 25, 100
PLAIN = {"Content-Type": "text/plain"}


class _Library:
    """One library as Zotero holds it: the user's (`group_id` None) or a group's, with its items
    (API shape), their specs and its collections."""

    def __init__(self, group_id: int | None, papers: list[dict], collections: list[dict]):
        self.group_id = group_id
        self.collections = [c for c in collections if c.get("library") == group_id]
        self.items: list[dict] = []
        self._index: dict[str, dict] = {}
        self.specs: dict[str, dict] = {}
        for paper in papers:
            if paper.get("library") == group_id:
                self._add(paper, None)

    @property
    def version(self) -> int:
        return max((i["version"] for i in self.items), default=0)

    def json(self) -> dict:
        kind, ident = ("group", self.group_id) if self.group_id else ("user", 0)
        return {"type": kind, "id": ident, "name": "Test library",
                "links": {"alternate": {"href": "https://www.zotero.org/test", "type": "text/html"}}}

    def group_json(self, base: str) -> dict:
        """Zotero.Group's toResponseJSON: id, version, links, meta.numItems and data (id, version, name)."""
        data = {"id": self.group_id, "version": self.version, "name": f"Group {self.group_id}", "description": ""}
        return {"id": self.group_id, "version": self.version,
                "links": {"self": {"href": f"{base}/groups/{self.group_id}", "type": "application/json"}},
                "meta": {"numItems": sum(not i["data"].get("parentItem") for i in self.items)}, "data": data}

    def by_key(self, key: str) -> dict | None:
        if len(self._index) != len(self.items):
            self._index = {i["key"]: i for i in self.items}
        return self._index.get(key)

    def _add(self, spec: dict, parent: str | None) -> None:
        data = {k: v for k, v in spec.items() if k not in NOT_DATA}
        data.setdefault("version", 1)
        data.setdefault("tags", [])
        data.setdefault("relations", {})
        kind = data["itemType"]
        if parent:
            data["parentItem"] = parent
        elif kind != "annotation":
            data.setdefault("collections", [])
        if kind == "annotation":
            if data.get("annotationType") not in TEXT_KINDS:
                data.pop("annotationText", None)
            if not data.get("annotationAuthorName"):
                data.pop("annotationAuthorName", None)
        if kind == "attachment":
            data.setdefault("charset", "")
            if data.get("linkMode") in ("imported_file", "imported_url") and spec.get("pdf") is not None:
                import hashlib

                data["md5"] = hashlib.md5(spec["pdf"]).hexdigest()
                data["mtime"] = 1704067200000
            data.pop("path", None) if data.get("linkMode") != "linked_file" else None
        if spec.get("deleted"):
            data["deleted"] = True
        kids = spec.get("attachments", []) + spec.get("annotations", [])
        meta: dict = {}
        if kind not in ("attachment", "note", "annotation"):
            meta["numChildren"] = len(spec.get("attachments", []))  # attachments and notes, not annotations
        if data.get("creators"):
            meta["creatorSummary"] = data["creators"][0].get("lastName") or data["creators"][0].get("name", "")
        if spec.get("date"):
            year = re.search(r"\d{4}", spec["date"])
            meta["parsedDate"] = year.group(0) if year else ""
        self.specs[data["key"]] = {**spec, "_children": [a["key"] for a in spec.get("attachments", ())]}
        self.items.append({"key": data["key"], "version": data["version"], "library": self.json(),
                           "meta": meta, "data": data})
        for kid in kids:
            self._add(kid, data["key"])

    def parent(self, item: dict) -> dict | None:
        parent = item["data"].get("parentItem")
        return self.by_key(parent) if parent else None

    def trashed(self, item: dict) -> bool:
        """In the trash itself, or a child (or an annotation of an attachment) of a trashed item."""
        while item is not None:
            if item["data"].get("deleted"):
                return True
            item = self.parent(item)
        return False



class ZoteroServer:
    """Start with `with ZoteroServer(papers) as server:`; `server.url` is the local-API base URL.

    It serves the user's library and every group a paper or collection names, from one port;
    `data_dir`: where imported files live (storage/KEY/NAME); `base_dir`: the linked-file base
    directory of `attachments:` paths.
    """

    def __init__(self, papers: list[dict], *, collections: list[dict] = (),
                 data_dir: Path | None = None, base_dir: Path | None = None, api_key: str | None = None,
                 server_id: str | None = None):
        self.data_dir, self.base_dir, self.api_key = data_dir, base_dir, api_key
        self.server_id = server_id or uuid.uuid4().hex[:8].upper()
        self.enabled = True  # False: the local API switched off in Zotero's settings
        self.requests: list[str] = []
        self._failures: list[tuple[int, str | None]] = []
        self._lock = threading.Lock()
        # a paper's "library": None for the user's, a group id, or "feed" (never served: not a group)
        groups = sorted({s["library"] for s in [*papers, *collections] if isinstance(s.get("library"), int)})
        self.libraries = {group: _Library(group, papers, list(collections)) for group in [None, *groups]}
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def items(self) -> list[dict]:
        """The user library's items, as served."""
        return self.libraries[None].items

    def __enter__(self) -> ZoteroServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def fail(self, status: int, *, times: int = 1, retry_after: str | None = None, body: str = "Try again later") -> None:
        """The next `times` requests answer `status` (with Retry-After when given)."""
        with self._lock:
            self._failures.extend([(status, retry_after, body)] * times)

    def _holding(self, key: str) -> tuple[_Library, dict]:
        return next((lib, item) for lib in self.libraries.values() if (item := lib.by_key(key)) is not None)

    def edit(self, key: str, **fields) -> None:
        """Change an item as Zotero does: its fields, and its version becomes its library's next."""
        with self._lock:
            lib, item = self._holding(key)
            version = lib.version + 1
            item["data"].update(fields)
            if fields.get("deleted") is False:
                item["data"].pop("deleted")
            item["version"] = item["data"]["version"] = version

    def erase(self, key: str) -> None:
        """Empty an item from the trash: it is gone, and its library's version moves on."""
        with self._lock:
            lib, _ = self._holding(key)
            version = lib.version + 1
            lib.items[:] = [i for i in lib.items if i["key"] != key]
            if lib.items:
                lib.items[0]["version"] = lib.items[0]["data"]["version"] = version

    def _response_json(self, lib: _Library, item: dict, base: str, web: bool) -> dict:
        """toResponseJSON: the stored item with links (and, from the web API only, createdByUser)."""
        body = json.loads(json.dumps(item))
        route = f"{base}/items/{item['key']}"
        links = {"self": {"href": route, "type": "application/json"},
                 "alternate": {"href": f"https://www.zotero.org/test/items/{item['key']}", "type": "text/html"}}
        if item["data"].get("parentItem"):
            links["up"] = {"href": f"{base}/items/{item['data']['parentItem']}", "type": "application/json"}
        spec = lib.specs.get(item["key"], {})
        if item["data"]["itemType"] == "attachment" and item["data"].get("linkMode") != "linked_url":
            path = self._file(item)
            enclosure = {"type": item["data"].get("contentType", ""), "title": item["data"].get("filename", "")}
            if path is not None and path.is_file():
                enclosure.update(href=path.as_uri(), length=path.stat().st_size)
            links["enclosure"] = enclosure
        best = next((lib.by_key(k) for k in spec.get("_children", ())
                     if lib.by_key(k) and not lib.by_key(k)["data"].get("deleted")), None)
        if best is not None:
            links["attachment"] = {"href": f"{base}/items/{best['key']}", "type": "application/json",
                                   "attachmentType": best["data"].get("contentType", "")}
        body["links"] = links
        if web and (user := spec.get("createdByUser")):
            body["meta"]["createdByUser"] = {"id": user["id"], "username": user["username"],
                                             "name": user.get("name", ""), "links": {}}
        return body

    def _file(self, item: dict) -> Path | None:
        data = item["data"]
        if data.get("linkMode") == "linked_file":
            stored = data.get("path", "")
            if stored.startswith("attachments:"):
                return self.base_dir / stored.removeprefix("attachments:") if self.base_dir else None
            return Path(stored)
        if self.data_dir is None or not data.get("filename"):
            return None
        return Path(self.data_dir) / "storage" / item["key"] / data["filename"]

    # --- answering --------------------------------------------------------------------------

    def answer(self, raw_path: str, headers) -> tuple[int, dict, bytes]:
        with self._lock:
            self.requests.append(raw_path)
            failure = self._failures.pop(0) if self._failures else None
            split = urlsplit(raw_path)
            local = split.path.startswith("/api/")
            status, out, body = self._answer(split, headers, local, failure)
        common = {"Zotero-API-Version": "3"}
        if local:
            common.update({"Zotero-Schema-Version": SCHEMA_VERSION, "Zotero-Server-ID": self.server_id})
        return status, {**out, **common}, body

    def _answer(self, split, headers, local: bool, failure) -> tuple[int, dict, bytes]:
        if failure:
            status, retry_after, text = failure
            return status, {**PLAIN, **({"Retry-After": retry_after} if retry_after else {})}, text.encode()
        if local and not self.enabled:
            return 403, PLAIN, b"Local API is not enabled"
        if local and headers.get("Zotero-Server-ID") not in (None, self.server_id):
            return 412, PLAIN, b"Zotero-Server-ID mismatch"
        if not local and self.api_key and headers.get("Authorization") != f"Bearer {self.api_key}" \
                and headers.get("Zotero-API-Key") != self.api_key:
            return 403, PLAIN, b"Forbidden"
        if local and split.path == "/api/":
            return 200, PLAIN, b"Nothing to see here."
        query = parse_qs(split.query)
        prefix = "/api" if local else ""
        match = re.fullmatch(re.escape(prefix) + r"/(users|groups)/(\d+)(/.*)?", split.path)
        if not match:
            return 404, PLAIN, b"Not found"
        kind, ident, route = match.group(1), int(match.group(2)), match.group(3) or ""
        if kind == "users" and local and ident != 0:
            return 400, PLAIN, b"Only data for the logged-in user is available locally -- use userID 0"
        lib = self.libraries.get(ident if kind == "groups" else None)
        if lib is None or (kind == "groups" and not ident):
            return 404, PLAIN, b"Not found"
        root = f"http://localhost:{self.port}{prefix}"
        base = f"{root}/{kind}/{ident}"
        if kind == "groups" and not route:
            return self._respond(lib.group_json(root), lib.version, headers, query)
        if m := re.fullmatch(r"/items/(\w+)/file/view/url", route):
            return self._file_url(lib, m.group(1), local)
        if (m := re.fullmatch(r"/items/(\w+)", route)) and m.group(1) not in ("top", "trash"):
            item = lib.by_key(m.group(1))
            if item is None:
                return 404, PLAIN, b"Not found"
            return self._respond(self._response_json(lib, item, base, not local), item["version"], headers, query)
        if kind == "users" and route == "/groups":
            found = [g.group_json(root) for g in self.libraries.values() if g.group_id]
        else:
            found = self._listing(lib, route, query)
        if found is None:
            return 404, PLAIN, b"Not found"
        if isinstance(found, tuple):
            return found
        if "since" in query:
            try:
                since = int(query["since"][0])
            except ValueError:
                return 400, PLAIN, f"Invalid 'since' value '{query['since'][0]}'".encode()
            found = [i for i in found if i["version"] > since] if since else found
        sort = query.get("sort", ["dateModified"])[0]
        if sort not in SORTS:
            return 400, PLAIN, f"Invalid 'sort' value '{sort}'".encode()
        direction = query.get("direction", ["desc" if sort.startswith("date") else "asc"])[0]
        if direction not in ("asc", "desc"):
            return 400, PLAIN, f"Invalid 'direction' value '{direction}'".encode()
        found = sorted(found, key=lambda i: str(i["data"].get(sort, i.get(sort, ""))), reverse=direction == "desc")
        total = len(found)
        start = max(0, min(int(query.get("start", ["0"])[0] or 0), total))
        asked = int(query.get("limit", ["0"])[0] or 0)
        limit = (min(asked or WEB_PAGE, WEB_MAX)) if not local else (asked or total - start)
        page = found[start:start + limit]
        extra = {"Total-Results": str(total), "Link": self._links(split.path, query, start, limit, total, base)}
        fmt = query.get("format", ["json"])[0]
        if fmt == "keys":
            return self._respond("\n".join(i["key"] for i in page), lib.version, headers, query, extra)
        if fmt == "versions":
            return self._respond({i["key"]: i["version"] for i in page}, lib.version, headers, query, extra)
        return self._respond([self._response_json(lib, i, base, not local) if "itemType" in i["data"] else i
                              for i in page], lib.version, headers, query, extra)

    def _respond(self, body, version: int, headers, query, extra: dict | None = None) -> tuple[int, dict, bytes]:
        out = {"Last-Modified-Version": str(version), **(extra or {})}
        asked = headers.get("If-Modified-Since-Version")
        if asked and int(asked) != 0 and version <= int(asked):
            return 304, out, b""
        if isinstance(body, str):
            return 200, {**out, **PLAIN}, body.encode()
        return 200, {**out, "Content-Type": "application/json"}, json.dumps(body, indent=4).encode()

    def _listing(self, lib: _Library, route: str, query: dict):
        """The items (or collections) a route's search finds, before since/sort/paging."""
        with_trash = query.get("includeTrashed") == ["1"]
        item_types = query.get("itemType", [])
        # search.js: annotations only when an item type condition asks for them (or negates another)
        annotations_asked = any(t.startswith("-") or "annotation" in t.split("||") for t in item_types)

        def admitted(item: dict) -> bool:
            return (with_trash or not lib.trashed(item)) and (
                item["data"]["itemType"] != "annotation" or annotations_asked)

        if route == "/items":
            found = [i for i in lib.items if admitted(i)]
        elif route == "/items/top":
            found = [i for i in lib.items if not i["data"].get("parentItem") and admitted(i)]
        elif m := re.fullmatch(r"/items/(\w+)/children", route):
            if lib.by_key(m.group(1)) is None:
                return None
            found = [i for i in lib.items if i["data"].get("parentItem") == m.group(1) and admitted(i)]
        elif route in ("/collections", "/collections/top"):
            return [self._collection_json(lib, c) for c in lib.collections if not c.get("deleted")
                    and (route == "/collections" or not c.get("parentCollection"))]
        elif m := re.fullmatch(r"/collections/(\w+)/items(/top)?", route):
            if not any(c["key"] == m.group(1) and not c.get("deleted") for c in lib.collections):
                return None
            members = {i["key"] for i in lib.items if m.group(1) in i["data"].get("collections", ())}
            found = [i for i in lib.items if i["data"]["itemType"] != "annotation" and admitted(i)
                     and (i["key"] in members or (not m.group(2) and i["data"].get("parentItem") in members))]
        else:
            return None
        if "itemKey" in query:
            keys = set(query["itemKey"][0].split(","))
            found = [i for i in found if i["key"] in keys]
        for name, attribute in (("tag", lambda i: {t["tag"] for t in i["data"].get("tags", ())}),
                                ("itemType", lambda i: {i["data"].get("itemType")})):
            for condition in query.get(name, ()):
                found = [i for i in found if _matches(condition, attribute(i))]
        return found

    def _collection_json(self, lib: _Library, spec: dict) -> dict:
        data = {"key": spec["key"], "version": spec.get("version", 1), "name": spec["name"],
                "parentCollection": spec.get("parentCollection") or False, "relations": {}}
        return {"key": spec["key"], "version": data["version"], "library": lib.json(), "links": {},
                "meta": {"numCollections": 0, "numItems": 0}, "data": data, "dateModified": ""}

    def _file_url(self, lib: _Library, key: str, local: bool) -> tuple[int, dict, bytes]:
        item = lib.by_key(key)
        if item is None or not local:  # the web API has no local files
            return 404, PLAIN, b"Not found"
        if item["data"]["itemType"] != "attachment" or item["data"].get("linkMode") == "linked_url":
            return 400, PLAIN, f"Not a file attachment: {key}".encode()
        path = self._file(item)
        return 200, PLAIN, path.resolve().as_uri().encode() if path is not None else b""

    def _links(self, path: str, query: dict, start: int, limit: int, total: int, base: str) -> str:
        """buildLinks: first and prev when not at the start, last, next while more remain."""
        def url(new_start: int | None) -> str:
            params = {k: v[0] for k, v in query.items() if k != "start"}
            if new_start:
                params["start"] = str(new_start)
            return f"<http://127.0.0.1:{self.port}{path}?{urlencode(params)}>"

        links = []
        if start:
            links += [f'{url(None)}; rel="first"', f'{url(max(0, start - limit))}; rel="prev"']
        if not start and limit >= total:
            links.append(f'{url(None)}; rel="last"')
        elif limit:
            last = total - total % limit
            last = total - limit if last == total else last
            links.append(f'{url(max(0, last))}; rel="last"')
            if start + limit < total:
                links.append(f'{url(start + limit)}; rel="next"')
        return ", ".join(links)


def _matches(condition: str, values: set) -> bool:
    """The API's search syntax: 'a || b' is any of them, '-a' is none."""
    negate = condition.startswith("-")
    wanted = {w.strip() for w in condition.removeprefix("-").split("||")}
    return bool(wanted & values) != negate


def _handler(server: ZoteroServer):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            status, headers, body = server.answer(self.path, self.headers)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass  # keep test output clean

    return Handler
