"""Papers and annotations read through the Zotero API with pyzotero: Zotero 7's local API
(the default, http://127.0.0.1:23119/api) or the web API (api.zotero.org).

pyzotero retries a 429 after its Retry-After; 5xx answers are retried here with backoff.
Refusals and an absent Zotero end as one UserError saying what to do.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse
from urllib.request import url2pathname

from studykit.errors import UserError
from studykit.model import Paper
from studykit.sources.zotero_common import (
    PDF, AttachmentData, Library, build_paper, default_taxonomy, is_paper, item_order,
)

ENDPOINT_ENV = "STUDYKIT_ZOTERO_ENDPOINT"  # another base URL (tests, a Zotero on another port)
RETRIES = 4
RETRY_BASE_S = 1.0
PAGE = 100  # the web API's largest page
LOCAL_PAGE = 1000  # the local API has no limit; pages keep the progress bar moving
ENABLE_LOCAL = ('enable "Allow other applications on this computer to communicate with Zotero" '
                "in Zotero 7 Settings > Advanced")

Progress = Callable[[int, int], None]


def read_library(*, local: bool = True, library_id=None, library_type: str | None = None, api_key=None,
                 items=(), collections=(), tags=(), taxonomy=None, progress: Progress | None = None,
                 endpoint: str | None = None) -> list[Paper]:
    """The papers of the selection (item or attachment keys, collection names or keys, tags;
    nothing selected: the whole library), with their PDF annotations.

    Web API credentials default to ZOTERO_LIBRARY_ID, ZOTERO_LIBRARY_TYPE, ZOTERO_API_KEY.
    `progress(done, total)` is called as items arrive.
    """
    client = _Client(local, library_id, library_type, api_key, endpoint or os.environ.get(ENDPOINT_ENV))
    taxonomy = default_taxonomy(taxonomy)
    if items or collections or tags:
        selected = client.select(items, collections, tags)
        papers = []
        for done, (parent, only) in enumerate(selected.values()):
            papers.append(client.paper(parent, only, client.children, taxonomy))
            if progress:
                progress(done + 1, len(selected))
    else:
        everything = client.pages(client.zot.items, progress=progress, itemType="-note")
        children = defaultdict(list)
        for item in everything:
            if item["data"].get("parentItem"):
                children[item["data"]["parentItem"]].append(item)
        papers = [client.paper(item, None, lambda key: children.get(key, []), taxonomy)
                  for item in everything if _is_paper(item)]
    return [paper for _, paper in sorted(papers, key=lambda p: p[0])]


def _is_paper(item: dict) -> bool:
    data = item["data"]
    return not data.get("deleted") and is_paper(data["itemType"], data.get("parentItem"), data.get("contentType"))


def _is_pdf(item: dict) -> bool:
    data = item["data"]
    return data["itemType"] == "attachment" and data.get("contentType") == PDF and not data.get("deleted")


class _Client:
    """A pyzotero client for one library, with retries and user-facing errors."""

    def __init__(self, local: bool, library_id, library_type: str | None, api_key, endpoint: str | None):
        from pyzotero import zotero

        self.local = local
        if local:  # the local API calls the user's own library users/0
            library_type = library_type or "user"
            library_id = library_id if library_id is not None else (0 if library_type == "user" else None)
        else:
            library_id = library_id or os.environ.get("ZOTERO_LIBRARY_ID")
            library_type = library_type or os.environ.get("ZOTERO_LIBRARY_TYPE") or "user"
            api_key = api_key or os.environ.get("ZOTERO_API_KEY")
            if not library_id:
                raise UserError("zotero web API: no library id: set ZOTERO_LIBRARY_ID (your user id from "
                                "zotero.org/settings/keys, or a group id with ZOTERO_LIBRARY_TYPE=group) "
                                "and ZOTERO_API_KEY")
        if library_type not in ("user", "group") or library_id is None:
            raise UserError(f"zotero: library type must be 'user' or 'group' with its id, not {library_type!r}")
        self.zot = zotero.Zotero(library_id, library_type, api_key, local=local)
        if endpoint:
            self.zot.endpoint = endpoint.rstrip("/")
        self.where = f"{library_type}s/{library_id}"
        self.library = Library("group", int(library_id)) if library_type == "group" else Library()

    # --- HTTP with retries and plain-language errors ---------------------------------------

    def call(self, method, *args, missing: str | None = None, **params):
        """`method(*args, **params)`, retrying 5xx; a 404 says `missing` when given."""
        import httpx2
        from pyzotero import zotero_errors as ze

        for attempt in range(RETRIES):
            self.zot.url_params = None  # a failed call leaves its parameters behind
            try:
                return method(*args, **params)
            except ze.ResourceNotFoundError:
                raise UserError(missing or self._refused(404)) from None
            except ze.UserNotAuthorisedError:
                raise UserError(self._refused(403)) from None
            except ze.TooManyRetriesError:
                raise UserError(f"Zotero at {self.zot.endpoint} keeps answering 'too many requests': "
                                "try again in a few minutes") from None
            except ze.HTTPError:
                response = self.zot.request
                status = response.status_code if response is not None else 0
                if status < 500:
                    raise UserError(f"Zotero at {self.zot.endpoint} answered {status}: "
                                    f"{response.text.strip()[:200]}") from None
                if attempt == RETRIES - 1:
                    raise UserError(f"Zotero at {self.zot.endpoint} answered {status} {RETRIES} times: "
                                    "try again later") from None
                time.sleep(_retry_after(response) or RETRY_BASE_S * 2 ** attempt)
            except ze.PyZoteroError as exc:  # any other refusal: say it in one line
                raise UserError(f"Zotero at {self.zot.endpoint}: {' '.join(str(exc).split())[:300]}") from None
            except httpx2.TransportError as exc:
                if self.local:
                    raise UserError(f"cannot reach Zotero at {self.zot.endpoint} ({exc}): start Zotero 7 and "
                                    f"{ENABLE_LOCAL}, or read its database with --zotero-data-dir") from None
                raise UserError(f"cannot reach the Zotero web API at {self.zot.endpoint}: {exc}") from None

    def _refused(self, status: int) -> str:
        if self.local:
            return f"Zotero's local API at {self.zot.endpoint} answered {status}: {ENABLE_LOCAL}"
        if status == 404:
            return (f"the Zotero web API has no library {self.where}: check ZOTERO_LIBRARY_ID "
                    "and ZOTERO_LIBRARY_TYPE")
        return (f"the Zotero web API refused access to {self.where}: check ZOTERO_API_KEY and that "
                "the key may read this library")

    def pages(self, method, *args, progress: Progress | None = None, **params) -> list[dict]:
        """Every result of a listing, following the Link: next pages."""
        results = list(self.call(method, *args, limit=LOCAL_PAGE if self.local else PAGE, **params))
        total = int(self.zot.request.headers.get("Total-Results", len(results)))
        while True:
            if progress:
                progress(len(results), max(total, len(results)))
            if not (self.zot.links or {}).get("next"):
                return results
            results.extend(self.call(self.zot.follow))

    # --- selection and papers ---------------------------------------------------------------

    def item(self, key: str) -> dict:
        return self.call(self.zot.item, key, missing=f"no Zotero item with key {key} in {self.where}")

    def children(self, key: str) -> list[dict]:
        return self.pages(self.zot.children, key)

    def select(self, keys, collections, tags) -> dict[str, tuple[dict, set[str] | None]]:
        """Paper key -> (its item, the attachment keys to read or None for all its PDFs)."""
        selected: dict[str, tuple[dict, set[str] | None]] = {}
        for key in keys:
            key = key.strip().upper()
            item = self.item(key)
            data = item["data"]
            parent = self.item(data["parentItem"]) if data.get("parentItem") else None
            if data.get("deleted") or (parent and parent["data"].get("deleted")):
                raise UserError(f"Zotero item {key} is in the trash")
            if _is_paper(item):
                selected[key] = (item, None)
            elif _is_pdf(item):
                paper_key = parent["key"]
                _, only = selected.get(paper_key, (parent, set()))
                selected[paper_key] = (parent, None if only is None else only | {key})
            else:
                raise UserError(f"Zotero item {key} is not a paper or a PDF attachment (it is a {data['itemType']})")
        if collections:
            known = self.pages(self.zot.collections)
            for wanted in collections:
                found = [c["key"] for c in known if wanted in (c["key"], c["data"]["name"])]
                if not found:
                    names = sorted({c["data"]["name"] for c in known})
                    raise UserError(f"no Zotero collection named or keyed {wanted!r} "
                                    f"(collections: {', '.join(names) or 'none'})")
                for collection_key in found:
                    for item in self.pages(self.zot.collection_items, collection_key):
                        if _is_paper(item):
                            selected[item["key"]] = (item, None)
        for tag in tags:
            tagged = self.pages(self.zot.items, tag=tag)
            if not tagged:
                raise UserError(f"no Zotero item has the tag {tag!r}")
            for item in tagged:
                if _is_paper(item):
                    selected[item["key"]] = (item, None)
        return selected

    def paper(self, item: dict, only: set[str] | None, children_of, taxonomy) -> tuple[tuple, Paper]:
        """(sort order, Paper) of a paper item; `children_of(key)` lists an item's child items."""
        pdfs = [item] if item["data"]["itemType"] == "attachment" else [
            child for child in children_of(item["key"]) if _is_pdf(child) and (only is None or child["key"] in only)]
        pdfs.sort(key=lambda a: item_order(a["data"]))
        attachments = [AttachmentData(pdf["key"], self.pdf_path(pdf["key"]),
                                      [_annotation_data(a) for a in children_of(pdf["key"])
                                       if a["data"]["itemType"] == "annotation" and not a["data"].get("deleted")])
                       for pdf in pdfs]
        return item_order(item["data"]), build_paper(item["data"], self.library, attachments, taxonomy=taxonomy)

    def pdf_path(self, key: str) -> Path | None:
        """Where the local Zotero keeps an attachment's file; the web API cannot know."""
        if not self.local:
            return None
        from pyzotero import zotero_errors as ze

        try:
            response = self.zot._retrieve_data(f"/{self.zot.library_type}/{self.zot.library_id}"
                                               f"/items/{key}/file/view/url")
        except ze.PyZoteroError:
            return None  # a linked URL or a file that was never downloaded
        url = urlparse(response.text.strip())
        if url.scheme != "file":
            return None
        path = Path(url2pathname(url.path))
        return path if path.is_file() else None


def _annotation_data(item: dict) -> dict:
    """The annotation's data, with the Zotero user who made it as its author (group libraries)."""
    data = dict(item["data"])
    user = item.get("meta", {}).get("createdByUser") or {}
    data["annotationAuthorName"] = data.get("annotationAuthorName") or user.get("username", "")
    return data


def _retry_after(response) -> float | None:
    try:
        return float(response.headers.get("Retry-After") or response.headers.get("Backoff"))
    except (TypeError, ValueError):
        return None
