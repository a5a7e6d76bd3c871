"""Papers and annotations read through the Zotero API with pyzotero: the local API of Zotero 7
and later (the default) or the web API (`zotero_api_client` talks to either).

A selection is asked for item by item (`zotero_api_select`); a whole library in three listings,
each asked for what it holds (/items itself leaves annotations out: search.js). Items come in
the Zotero API's data shape and are converted by `zotero_common`, like the database reader's.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable

from studykit.model import Paper
from studykit.sources.zotero_api_client import Client, Progress, connect_all
from studykit.sources.zotero_api_select import Found, is_paper_item, is_pdf_item, select, select_in
from studykit.sources.zotero_common import AttachmentData, annotation_author, build_paper, item_key, item_order, paper_id

BY_KEY_MAX = 20  # more papers than this to re-read: three listings cost less than three requests each


def read_library(*, local: bool = True, library_id: int | str | None = None, library_type: str | None = None,
                 api_key: str | None = None, items=(), collections=(), tags=(), progress: Progress | None = None,
                 endpoint: str | None = None, only: set[str] | None = None) -> list[Paper]:
    """The papers of the selection (item or attachment keys, collection names or keys, tags;
    nothing selected: the whole library), with their PDF annotations.

    Through the local API with no library named: the user's library and every group's.
    Web API credentials default to ZOTERO_LIBRARY_ID, ZOTERO_LIBRARY_TYPE, ZOTERO_API_KEY.
    `progress(done, total)` is called as items arrive. `only`: just the papers with these ids
    (read by key, the others not at all).
    """
    items = [item_key(key) for key in items]  # a key that cannot be Zotero's fails before any request
    clients = connect_all(local, library_id, library_type, api_key, endpoint)
    if only is not None and not (items or collections or tags) and len(only) <= BY_KEY_MAX:
        # a few papers of the whole library: asked for by key, each in its own library
        found, asked, chosen = Found(), [], []
        for client in clients:
            prefix = paper_id(client.library, "")
            keys = [i.removeprefix(prefix) for i in only if i.startswith(prefix)]
            if keys:
                chosen.append((client, select_in(client, keys, (), (), found)))
                asked += keys
        found.check(clients, asked, (), ())
    elif items or collections or tags:
        chosen = select(clients, items, collections, tags)
    else:
        chosen = None
    papers = []
    if chosen is not None:
        if only is not None:
            chosen = [(client, {key: picked for key, picked in selected.items()
                                if paper_id(client.library, key) in only}) for client, selected in chosen]
        total = sum(len(selected) for _, selected in chosen)
        for client, selected in chosen:
            for parent, picked in selected.values():
                papers.append(_paper(client, parent, picked, client.children, client.annotations))
                if progress:
                    progress(len(papers), total)
    else:
        offset = 0
        for client in clients:  # the bar counts on over the libraries
            told = [0]

            def tell(done: int, total: int, base: int = offset) -> None:
                told[0] = total
                progress(base + done, base + total)

            papers += _whole_library(client, tell if progress else None, only)
            offset += told[0]
    return [paper for _, paper in sorted(papers, key=lambda p: p[0])]


def _whole_library(client: Client, progress: Progress | None, only: set[str] | None) -> list[tuple[tuple, Paper]]:
    """(sort order, Paper) of every paper of one library (of `only`, when given)."""
    # Three listings, each asked for what it holds: /items itself leaves annotations out (search.js).
    top = client.pages(client.zot.top, progress=progress)
    children = defaultdict(list)
    for item in client.pages(client.zot.items, itemType="attachment") + \
            client.pages(client.zot.items, itemType="annotation"):
        if item["data"].get("parentItem"):
            children[item["data"]["parentItem"]].append(item)
    return [_paper(client, item, None, lambda key: children.get(key, []), lambda key: children.get(key, []))
            for item in top if is_paper_item(item) and (only is None or paper_id(client.library, item["key"]) in only)]


def _paper(client: Client, item: dict, only: set[str] | None, children_of: Callable[[str], list[dict]],
           annotations_of: Callable[[str], list[dict]]) -> tuple[tuple, Paper]:
    """(sort order, Paper) of a paper item; `children_of(key)` lists an item's child attachments,
    `annotations_of(key)` a PDF's annotations."""
    pdfs = [item] if item["data"]["itemType"] == "attachment" else [
        child for child in children_of(item["key"]) if is_pdf_item(child) and (only is None or child["key"] in only)]
    pdfs.sort(key=lambda a: item_order(a["data"]))
    attachments = [AttachmentData(pdf["key"], client.pdf_path(pdf["key"]),
                                  [_annotation_data(client, a) for a in annotations_of(pdf["key"])
                                   if a["data"]["itemType"] == "annotation" and not a["data"].get("deleted")])
                   for pdf in pdfs]
    return item_order(item["data"]), build_paper(item["data"], client.library, attachments)


def _annotation_data(client: Client, item: dict) -> dict:
    """The annotation's data with its author: its own name, else the Zotero user who made it,
    which only the web API tells (`meta.createdByUser`); the local API has no such field."""
    data = dict(item["data"])
    user = item.get("meta", {}).get("createdByUser") or {}
    data["annotationAuthorName"] = annotation_author(data, client.library, user.get("username"))
    return data
