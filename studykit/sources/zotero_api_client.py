"""A pyzotero client for one Zotero library, with retries and plain-language errors: the local API
of Zotero 7 and later (the default, http://127.0.0.1:23119/api) or the web API (api.zotero.org).

The local API serves every library Zotero holds: the user's as users/0 and each group (listed by
/users/0/groups) as groups/ID; each is read through its own client (`connect_all`). The web API
reads the one library ZOTERO_LIBRARY_ID and ZOTERO_LIBRARY_TYPE name. What each endpoint returns
is Zotero's (server_localAPI.js, search.js): an item's /children are its attachments and notes,
so a PDF's annotations are asked for by item type.

pyzotero retries a 429 after its Retry-After; 5xx answers are retried here with backoff.
Refusals and an absent Zotero end as one UserError saying what to do.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse
from urllib.request import url2pathname

from studykit.errors import UserError
from studykit.sources.zotero_common import Library

ENDPOINT_ENV = "STUDYKIT_ZOTERO_ENDPOINT"  # another base URL (tests, a Zotero on another port)
RETRIES = 4
RETRY_BASE_S = 1.0
PAGE = 100  # the web API's largest page
LOCAL_PAGE = 1000  # the local API has no limit; pages keep the progress bar moving
ENABLE_LOCAL = ('enable "Allow other applications on this computer to communicate with Zotero" '
                "in Zotero 7 Settings > Advanced")

Progress = Callable[[int, int], None]
_ABSENT = object()  # `call(..., missing=_ABSENT)`: a 404 answers None


def connect(local: bool = True, library_id: int | str | None = None, library_type: str | None = None,
            api_key: str | None = None, endpoint: str | None = None) -> Client:
    """A client for one library; the endpoint defaults to $STUDYKIT_ZOTERO_ENDPOINT, then pyzotero's."""
    return Client(local, library_id, library_type, api_key, endpoint or os.environ.get(ENDPOINT_ENV))


def connect_all(local: bool = True, library_id: int | str | None = None, library_type: str | None = None,
                api_key: str | None = None, endpoint: str | None = None) -> list[Client]:
    """A client for each library to read: through the local API with no library named, the user's
    and every group's (server_localAPI.js: /users/0/groups); otherwise the one named."""
    first = connect(local, library_id, library_type, api_key, endpoint)
    if not local or library_id is not None or library_type is not None:
        return [first]
    groups = first.pages(first.zot.groups)
    return [first] + [connect(local, group.get("id", group.get("data", {}).get("id")), "group", api_key, endpoint)
                      for group in groups]


@dataclass
class Versions:
    """A `format=versions` answer: who served it, and what changed since the version asked about."""

    server: str  # Zotero-Server-ID ("" from the web API)
    unchanged: bool  # 304 Not Modified
    library_version: int
    versions: dict[str, int]


class Client:
    """A pyzotero client for one library, with retries and user-facing errors."""

    def __init__(self, local: bool, library_id: int | str | None, library_type: str | None, api_key: str | None,
                 endpoint: str | None):
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
        self.label = self.where if not local else "your library" if library_type == "user" else f"group {library_id}"
        self.library = Library("group", int(library_id)) if library_type == "group" else Library()

    # --- HTTP with retries and plain-language errors ---------------------------------------

    def call(self, method, *args, missing: str | object | None = None, **params):
        """`method(*args, **params)`, retrying 5xx; a 404 says `missing` when given."""
        import httpx2
        from pyzotero import zotero_errors as ze

        for attempt in range(RETRIES):
            self.zot.url_params = None  # a failed call leaves its parameters behind
            try:
                return method(*args, **params)
            except ze.ResourceNotFoundError:
                if missing is _ABSENT:
                    return None
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
            except ze.PreConditionFailedError:
                raise UserError(f"Zotero at {self.zot.endpoint} answered 412: another Zotero database answers "
                                "than the one this run began with (Zotero-Server-ID changed): run again") from None
            except ze.PyZoteroError as exc:  # any other refusal: say it in one line
                response = self.zot.request
                if response is not None and response.status_code >= 400:
                    raise UserError(f"Zotero at {self.zot.endpoint} answered {response.status_code}: "
                                    f"{' '.join(response.text.split())[:200]}") from None
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

    def _get(self, route: str, headers: dict | None = None, **params):
        """A raw GET of `route` in this library (pyzotero has no 304 or plain-text listings)."""
        url = f"{self.zot.endpoint}/{self.zot.library_type}/{self.zot.library_id}{route}"

        def get():
            response = self.zot._send("GET", url, params=params, headers={**self.zot._local_headers(), **(headers or {})})
            self.zot.request = response
            if response.status_code != 304:  # Not Modified is an answer, not an error
                self.zot._post_check(response)
            return response

        return self.call(get)

    def versions(self, since: int, **params) -> Versions:
        """Key -> version of the items changed after `since` (all when 0), or `unchanged` (304)."""
        headers = {"If-Modified-Since-Version": str(since)} if since else {}
        response = self._get("/items", headers, format="versions", since=since, includeTrashed=1, **params)
        unchanged = response.status_code == 304
        return Versions(response.headers.get("Zotero-Server-ID", ""), unchanged,
                        int(response.headers.get("Last-Modified-Version", since)),
                        {} if unchanged else response.json())

    def keys(self, **params) -> list[str]:
        """The keys of every item of the listing, trashed ones included."""
        return self._get("/items", format="keys", includeTrashed=1, **params).text.split()

    # --- items, their children, their files -------------------------------------------------

    def item(self, key: str) -> dict | None:
        """The item with this key, or None where this library has none."""
        return self.call(self.zot.item, key, missing=_ABSENT)

    def children(self, key: str) -> list[dict]:
        """An item's child attachments and notes (never its annotations: search.js)."""
        return self.pages(self.zot.children, key)

    def annotations(self, attachment_key: str) -> list[dict]:
        """A PDF's annotations: only asked for by item type do they come (server_localAPI.js)."""
        return self.pages(self.zot.children, attachment_key, itemType="annotation")

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


def _retry_after(response) -> float | None:
    try:
        return float(response.headers.get("Retry-After") or response.headers.get("Backoff"))
    except (TypeError, ValueError):
        return None
