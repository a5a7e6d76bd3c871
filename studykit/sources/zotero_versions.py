"""The API path's change stamps: what a paper is made of, told by Zotero's version counters.

Every object Zotero serves has a `version`, and a listing's `Last-Modified-Version` is the
library's. A run asks `/items?format=versions` with `since` the version it saw last and
`If-Modified-Since-Version` (server_localAPI.js): a 304 says nothing changed; otherwise only the
changed items are fetched, and `format=keys` tells which are gone. What it learnt is cached in
the vault (`.studykit/zotero-api-versions.json`, a cache: losing it costs one full listing), one
entry per library (the user's and each group's: each has its own counter), keyed by
`Zotero-Server-ID` and library: the local API's versions count on one database only, so another
machine's or a restored database's counter is never trusted.
"""

from __future__ import annotations

import json
from pathlib import Path

from studykit.sources.zotero_api_client import connect_all
from studykit.sources.zotero_api_select import select
from studykit.sources.zotero_common import change_stamp, is_paper, is_pdf, item_key, item_order, paper_id

CACHE_FILE = Path(".studykit") / "zotero-api-versions.json"
FORMAT = 2  # 1 held one library
BATCH = 50  # keys per itemKey= request (the web API's limit)


def change_stamps(cache_root: Path, *, local: bool = True, library_id=None, library_type: str | None = None,
                  api_key=None, endpoint: str | None = None, items=(), collections=(), tags=(),
                  save: bool = True) -> dict[str, str]:
    """Paper id -> a digest of the versions of the paper, its PDFs and their annotations (and the
    PDFs' md5 and mtime), in the order `zotero_api.read_library` returns them. `save`: keep what
    was learnt in the cache under `cache_root` (not on a dry run)."""
    items = [item_key(key) for key in items]  # a key that cannot be Zotero's fails before any request
    clients = connect_all(local, library_id, library_type, api_key, endpoint)
    path = Path(cache_root) / CACHE_FILE
    cache = _load(path)
    if items or collections or tags:
        chosen = [(client, {key: only for key, (_, only) in selected.items()})
                  for client, selected in select(clients, items, collections, tags)]
    else:
        chosen = [(client, None) for client in clients]
    stamps, learnt, server = [], {}, cache.get("server", "")
    for client, picked in chosen:
        server, entry = _refresh(client, cache)
        learnt[_entry_key(server, client)] = entry
        library_stamps = _stamps(client, server, entry["items"], picked)
        if library_stamps is None:  # not yet in the listing (a race with Zotero): no stamp can be trusted
            return {}
        stamps += library_stamps
    if save:  # only once the selection held: bad input leaves nothing behind
        _save(path, cache, server, learnt)
    return {paper: stamp for _, paper, stamp in sorted(stamps)}


def _stamps(client, server: str, known: dict, picked: dict | None) -> list[tuple] | None:
    """(order, paper id, digest) of the papers `picked` (None: every paper) of one library."""
    if picked is None:
        picked = {key: None for key, entry in known.items()
                  if not entry["parent"] and not entry["deleted"]
                  and is_paper(entry["type"], None, entry["contentType"])}
    children: dict[str, list[str]] = {}
    for key, entry in known.items():
        if entry["parent"] and not entry["deleted"]:
            children.setdefault(entry["parent"], []).append(key)
    stamps = []
    for key, only in picked.items():
        entry = known.get(key)
        if entry is None:
            return None
        pdfs = [key] if entry["type"] == "attachment" else sorted(
            c for c in children.get(key, ())
            if is_pdf(known[c]["type"], known[c]["contentType"]) and (only is None or c in only))
        parts = [server, _entry_stamp(entry)]
        for pdf in pdfs:
            parts.append((pdf, _entry_stamp(known[pdf]), sorted(
                (a, known[a]["version"]) for a in children.get(pdf, ()) if known[a]["type"] == "annotation")))
        order = item_order({"dateAdded": entry["dateAdded"], "key": key})
        stamps.append((order, paper_id(client.library, key), change_stamp(parts)))
    return stamps


def _entry_key(server: str, client) -> str:
    return f"{server} {client.where}"


def _entry_stamp(entry: dict) -> tuple:
    return entry["version"], entry["deleted"], entry.get("md5"), entry.get("mtime")


def _refresh(client, cache: dict) -> tuple[str, dict]:
    """(server id, the library's cache entry {version, items: key -> what the stamps need}) brought up to date."""
    libraries = cache.get("libraries", {})
    entry = libraries.get(_entry_key(cache.get("server", ""), client), {})
    since = entry.get("version", 0)
    answer = client.versions(since=since)
    server = answer.server or f"web:{client.where}"
    if server != cache.get("server"):  # another Zotero answered: only its own counters count
        entry = libraries.get(_entry_key(server, client), {})
        if entry.get("version", 0) != since:
            since = entry.get("version", 0)
            answer = client.versions(since=since)
    known = entry.get("items", {})
    if answer.unchanged:
        return server, {"version": since, "items": known}
    changed = dict(answer.versions)
    changed.update(client.versions(since=since, itemType="annotation").versions)
    present = set(client.keys()) | set(client.keys(itemType="annotation"))
    known = {key: entry for key, entry in known.items() if key in present}
    if since:
        wanted = sorted(changed)
        batches = [{"itemKey": ",".join(wanted[start:start + BATCH])} for start in range(0, len(wanted), BATCH)]
    else:  # everything is new: two listings beat thousands of keys
        batches = [{}]
    for batch in batches:
        for item in client.pages(client.zot.items, includeTrashed=1, **batch) + \
                client.pages(client.zot.items, itemType="annotation", includeTrashed=1, **batch):
            data = item["data"]
            known[item["key"]] = {"version": data.get("version", item.get("version", 0)), "type": data["itemType"],
                                  "parent": data.get("parentItem") or "", "deleted": bool(data.get("deleted")),
                                  "contentType": data.get("contentType"), "dateAdded": data.get("dateAdded"),
                                  "md5": data.get("md5"), "mtime": data.get("mtime")}
    return server, {"version": answer.library_version, "items": known}


def _load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if data.get("format") == FORMAT else {}
    except (OSError, ValueError, AttributeError):
        return {}


def _save(path: Path, cache: dict, server: str, learnt: dict) -> None:
    """Keep what this run learnt; other libraries' and other servers' entries stay as they were."""
    data = {"format": FORMAT, "server": server, "libraries": {**cache.get("libraries", {}), **learnt}}
    if data == cache:
        return
    from vault_export.atomic import write_atomic

    write_atomic(path, json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n", durable=False)
