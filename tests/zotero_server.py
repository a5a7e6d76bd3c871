"""A small Zotero API v3 server for tests: the subset studykit reads, in Zotero's own JSON shape.

It serves one library (described as in `zotero_fixture`: papers with nested attachments and
annotations) under both the local API's /api/users/0/... and the web API's /users/ID/...
(or /groups/ID/...). Listings page with `limit`/`start` and answer Total-Results and Link
headers; `fail()` makes the next requests answer an error (429 or 5xx with Retry-After).
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

NOT_DATA = {"attachments", "annotations", "pdf", "createdByUser", "library"}


class ZoteroServer:
    """Start with `with ZoteroServer(papers) as server:`; `server.url` is the local-API base URL."""

    def __init__(self, papers: list[dict], *, collections: list[dict] = (), group_id: int | None = None,
                 data_dir: Path | None = None, max_limit: int = 100, api_key: str | None = None):
        self.group_id, self.data_dir, self.max_limit, self.api_key = group_id, data_dir, max_limit, api_key
        self.enabled = True  # False: answer 403 like a Zotero whose local API is switched off
        self.requests: list[str] = []
        self._failures: list[tuple[int, str | None]] = []
        self._lock = threading.Lock()
        self.collections = [self._collection(c) for c in collections]
        self.items: list[dict] = []
        for paper in papers:
            self._add(paper, None)
        self._listings: dict[tuple, list[dict]] = {}  # (route, filters) -> items, so paging stays cheap
        self._by_key = {item["key"]: item for item in self.items}
        self._children: dict[str, list[dict]] = {}
        for item in self.items:
            self._children.setdefault(item["data"].get("parentItem"), []).append(item)
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

    def __enter__(self) -> ZoteroServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def fail(self, status: int, *, times: int = 1, retry_after: str | None = None) -> None:
        """The next `times` requests answer `status` (with Retry-After when given)."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * times)

    # --- the library in API shape ----------------------------------------------------------

    def _library(self) -> dict:
        kind, ident = ("group", self.group_id) if self.group_id else ("user", 0)
        return {"type": kind, "id": ident, "name": "Test library",
                "links": {"alternate": {"href": "https://www.zotero.org/test", "type": "text/html"}}}

    def _collection(self, spec: dict) -> dict:
        data = {"key": spec["key"], "version": 1, "name": spec["name"],
                "parentCollection": spec.get("parentCollection") or False, "relations": {}}
        return {"key": spec["key"], "version": 1, "library": self._library(), "links": {},
                "meta": {"numCollections": 0, "numItems": 0}, "data": data}

    def _add(self, spec: dict, parent: str | None) -> None:
        data = {k: v for k, v in spec.items() if k not in NOT_DATA}
        data.setdefault("version", 1)
        data.setdefault("tags", [])
        data.setdefault("relations", {})
        if parent:
            data["parentItem"] = parent
        elif data["itemType"] != "annotation":
            data.setdefault("collections", [])
        kids = spec.get("attachments", []) + spec.get("annotations", [])
        meta: dict = {"numChildren": len(kids)} if data["itemType"] != "annotation" else {}
        if data.get("creators"):
            meta["creatorSummary"] = data["creators"][0].get("lastName") or data["creators"][0].get("name", "")
        if spec.get("date"):
            year = re.search(r"\d{4}", spec["date"])
            meta["parsedDate"] = year.group(0) if year else ""
        if user := spec.get("createdByUser"):
            meta["createdByUser"] = {"id": user["id"], "username": user["username"], "name": user.get("name", ""),
                                     "links": {}}
        self.items.append({"key": data["key"], "version": data["version"], "library": self._library(),
                           "links": {}, "meta": meta, "data": data})
        for kid in kids:
            self._add(kid, data["key"])

    # --- answering --------------------------------------------------------------------------

    def answer(self, method: str, raw_path: str, headers) -> tuple[int, dict, bytes]:
        with self._lock:
            self.requests.append(raw_path)
            failure = self._failures.pop(0) if self._failures else None
        if failure:
            status, retry_after = failure
            extra = {"Retry-After": retry_after} if retry_after else {}
            return status, {"Content-Type": "text/plain", **extra}, b"Try again later"
        if not self.enabled:
            return 403, {"Content-Type": "text/plain"}, b"Local API is not enabled"
        if self.api_key and headers.get("Authorization") != f"Bearer {self.api_key}" \
                and headers.get("Zotero-API-Key") != self.api_key:
            return 403, {"Content-Type": "text/plain"}, b"Forbidden"
        split = urlsplit(raw_path)
        query = {k: v for k, v in parse_qs(split.query).items()}
        prefix = "/api" if split.path.startswith("/api/") else ""
        library = rf"/groups/{self.group_id}" if self.group_id else r"/users/\d+"
        match = re.fullmatch(re.escape(prefix) + library + r"(/.*)", split.path)
        if not match:
            return 404, {"Content-Type": "text/plain"}, b"Not found"
        route = match.group(1)
        if m := re.fullmatch(r"/items/(\w+)", route):
            item = self._by_key.get(m.group(1))
            return self._json(item, 1) if item else (404, {"Content-Type": "text/plain"}, b"Not found")
        if m := re.fullmatch(r"/items/(\w+)/file/view/url", route):
            return self._file_url(m.group(1), prefix)
        filters = tuple((k, tuple(v)) for k, v in sorted(query.items()) if k in ("tag", "itemType", "includeTrashed"))
        found = self._listings.get((route, filters))
        if found is None:
            found = self._listing(route, query)
            if found is None:
                return 404, {"Content-Type": "text/plain"}, b"Not found"
            self._listings[(route, filters)] = found
        return self._page(found, query, split.path, headers.get("Host", f"127.0.0.1:{self.port}"))

    def _listing(self, route: str, query: dict) -> list[dict] | None:
        def live(items: list[dict]) -> list[dict]:
            return [i for i in items if query.get("includeTrashed") == ["1"] or not i["data"].get("deleted")]

        if route in ("/items", "/items/top"):
            found = live(self.items if route == "/items" else self._children.get(None, []))
        elif m := re.fullmatch(r"/items/(\w+)/children", route):
            found = live(self._children.get(m.group(1), []))
        elif route == "/collections":
            found = self.collections
        elif m := re.fullmatch(r"/collections/(\w+)/items(/top)?", route):
            if not any(c["key"] == m.group(1) for c in self.collections):
                return None
            found = [i for i in live(self._children.get(None, [])) if m.group(1) in i["data"].get("collections", ())]
        else:
            return None
        for name, attribute in (("tag", lambda i: {t["tag"] for t in i["data"].get("tags", ())}),
                                ("itemType", lambda i: {i["data"].get("itemType")})):
            for condition in query.get(name, ()):
                found = [i for i in found if _matches(condition, attribute(i))]
        return found

    def _file_url(self, key: str, prefix: str) -> tuple[int, dict, bytes]:
        item = self._by_key.get(key)
        if item is None:
            return 404, {"Content-Type": "text/plain"}, b"Not found"
        if item["data"]["itemType"] != "attachment" or not prefix:  # the web API has no local files
            return 400, {"Content-Type": "text/plain"}, f"Not a file attachment: {key}".encode()
        if self.data_dir is None:
            return 404, {"Content-Type": "text/plain"}, b"Not found"
        path = (Path(self.data_dir) / "storage" / key / item["data"]["filename"]).resolve()
        return 200, {"Content-Type": "text/plain"}, path.as_uri().encode()

    def _page(self, found: list[dict], query: dict, path: str, host: str) -> tuple[int, dict, bytes]:
        start = int(query.get("start", ["0"])[0])
        limit = min(int(query.get("limit", [str(self.max_limit)])[0]), self.max_limit)
        total = len(found)

        def link(new_start: int) -> str:
            params = {k: v[0] for k, v in query.items() if k != "start"}
            if new_start:
                params["start"] = str(new_start)
            return f"<http://{host}{path}?{urlencode(params)}>"

        links = [f'{link(0)}; rel="first"'] if start else []
        if start + limit < total:
            links.append(f'{link(start + limit)}; rel="next"')
        links.append(f'{link(max(0, (total - 1) // limit * limit))}; rel="last"')
        return self._json(found[start:start + limit], total, {"Link": ", ".join(links)})

    def _json(self, body, total: int, headers: dict | None = None) -> tuple[int, dict, bytes]:
        return 200, {"Content-Type": "application/json", "Total-Results": str(total),
                     "Last-Modified-Version": "1", **(headers or {})}, json.dumps(body).encode()


def _matches(condition: str, values: set) -> bool:
    """The API's search syntax: 'a || b' is any of them, '-a' is none."""
    negate = condition.startswith("-")
    wanted = {w.strip() for w in condition.removeprefix("-").split("||")}
    return bool(wanted & values) != negate


def _handler(server: ZoteroServer):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            status, headers, body = server.answer("GET", self.path, self.headers)
            self.send_response(status)
            for name, value in {**headers, "Zotero-API-Version": "3", "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass  # keep test output clean

    return Handler
