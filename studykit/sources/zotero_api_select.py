"""The API reader's selection: item or attachment keys, collection names or keys, tags -> each
library's papers to read and, for each, the PDFs (`zotero_selection` says what a key picks).

A selection spans every library read: only what no library has is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studykit.sources.zotero_api_client import Client
from studykit.sources.zotero_common import is_paper, is_pdf
from studykit.sources.zotero_selection import add_pick, no_collection, no_item, no_tag, what_key_picks

Selected = dict[str, tuple[dict, "set[str] | None"]]  # paper key -> (its item, PDF keys to read or None: all)


@dataclass
class Found:
    """What a selection found so far, over all libraries."""

    keys: set[str] = field(default_factory=set)
    collections: set[str] = field(default_factory=set)
    collection_names: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)

    def check(self, clients: list[Client], keys, collections, tags) -> None:
        """One line for the first key, collection or tag that no library has."""
        for key in keys:
            if key not in self.keys:
                raise no_item(key, " or ".join(c.label for c in clients))
        for wanted in collections:
            if wanted not in self.collections:
                raise no_collection(wanted, self.collection_names)
        for tag in tags:
            if tag not in self.tags:
                raise no_tag(tag)


def select(clients: list[Client], keys, collections, tags) -> list[tuple[Client, Selected]]:
    """Each library's part of the selection; a key, collection or tag no library has is an error."""
    found = Found()
    chosen = [(client, select_in(client, keys, collections, tags, found)) for client in clients]
    found.check(clients, keys, collections, tags)
    return [(client, selected) for client, selected in chosen if selected]


def is_paper_item(item: dict) -> bool:
    data = item["data"]
    return not data.get("deleted") and is_paper(data["itemType"], data.get("parentItem"), data.get("contentType"))


def is_pdf_item(item: dict) -> bool:
    data = item["data"]
    return not data.get("deleted") and is_pdf(data["itemType"], data.get("contentType"))


def select_in(client: Client, keys, collections, tags, found: Found) -> Selected:
    """One library's part of the selection, noting in `found` what it holds."""
    items: dict[str, dict] = {}  # paper key -> its item
    picks: dict[str, set[str] | None] = {}
    for key in keys:
        item = client.item(key)
        if item is None:
            continue
        found.keys.add(key)
        data = item["data"]
        parent = client.item(data["parentItem"]) if data.get("parentItem") else None
        trashed = bool(data.get("deleted") or (parent and parent["data"].get("deleted")))
        picked = what_key_picks(key, data["itemType"], data.get("parentItem"), data.get("contentType"), trashed,
                                lambda: (data["parentItem"], parent["data"].get("parentItem") if parent else None))
        if picked == "paper":
            items[key] = item
            add_pick(picks, key)
        else:
            items[parent["key"]] = parent
            add_pick(picks, parent["key"], key)
    if collections:
        known = client.pages(client.zot.collections)
        found.collection_names.update(c["data"]["name"] for c in known)
        for wanted in collections:
            for collection_key in [c["key"] for c in known if wanted in (c["key"], c["data"]["name"])]:
                found.collections.add(wanted)
                _pick_papers(items, picks, client.pages(client.zot.collection_items, collection_key))
    for tag in tags:
        tagged = client.pages(client.zot.items, tag=tag)
        if tagged:
            found.tags.add(tag)
        _pick_papers(items, picks, tagged)
    return {key: (items[key], picked) for key, picked in picks.items()}


def _pick_papers(items: dict[str, dict], picks: dict[str, set[str] | None], found: list[dict]) -> None:
    """The papers among the items a collection or tag holds, picked whole."""
    for item in found:
        if is_paper_item(item):
            items[item["key"]] = item
            add_pick(picks, item["key"])
