"""What the last sync wrote, so that a re-sync skips an item whose input and note are both unchanged.

`.studykit/sync-state.json`, one file written once per run, holds for each note the stamp of its
input (the source's digest of the item combined with everything else that shapes the note), its
vault path, the hash of its bytes, the attachments it embeds and what the report shows of it; and
the size and mtime of every note in the vault when the run ended. An item is skipped only when all
of that still holds. Anything else (no state, the note edited, moved, copied or deleted, an
attachment gone, another studykit, template or studykit.toml) takes the full path, which reads,
renders and merges. The file is a cache: losing it costs one full sync, never a reader's byte.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from vault_export.sync import digest

STATE_FILE = Path(".studykit") / "sync-state.json"
FORMAT = 1


@dataclass
class Record:
    """One note as the last sync left it."""

    stamp: str  # digest of everything the note was made from
    path: str  # vault-relative, "/" separators
    sha: str  # hash of the note's bytes
    attachments: list[str]  # vault-relative files it embeds
    title: str
    annotations: int


def vault_listing(vault) -> dict[str, list[int]]:
    """Every note in the vault: vault-relative path -> [size, mtime_ns]; stats only, no reads."""
    listing = {}
    skip = len(str(vault.root)) + 1
    for path in vault.notes():
        try:
            stat = os.stat(path)
        except OSError:
            continue
        listing[str(path)[skip:].replace(os.sep, "/")] = [stat.st_size, stat.st_mtime_ns]
    return listing


class SyncState:
    """The state file of one vault, loaded at the start of a run and saved once at its end."""

    def __init__(self, root: Path, notes: dict[str, Record] | None = None, files: dict | None = None):
        self.root = Path(root)
        self.notes = notes or {}
        self.files = files or {}  # the vault's listing when the last run ended

    @classmethod
    def load(cls, root: Path) -> SyncState:
        try:
            data = json.loads((Path(root) / STATE_FILE).read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                return cls(root)
            notes = {note_id: Record(**fields) for note_id, fields in data["notes"].items()}
            return cls(root, notes, {str(k): list(v) for k, v in data["files"].items()})
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return cls(root)  # missing or from another version: every item takes the full path

    def save(self, listing: dict[str, list[int]]) -> None:
        """Write the state with `listing` as the vault's notes now; an identical file is not rewritten."""
        from vault_export.atomic import write_atomic

        self.files = listing
        data = {"format": FORMAT, "notes": {k: vars(v) for k, v in sorted(self.notes.items())},
                "files": dict(sorted(listing.items()))}
        write_atomic(self.root / STATE_FILE, json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n",
                     durable=False)

    def fresh(self, vault, stamps: dict[str, str], listing: dict[str, list[int]]) -> set[str]:
        """The ids in `stamps` whose stamp matches the last sync's and whose note is as studykit left it."""
        fresh = set()
        for note_id, stamp in stamps.items():
            record = self.notes.get(note_id)
            if record is None or record.stamp != stamp or record.path not in listing:
                continue
            if listing[record.path] != self.files.get(record.path) and not self._same_bytes(record):
                continue  # the reader (or a sync tool) changed the note: merge it
            if all((self.root / a).is_file() for a in record.attachments):
                fresh.add(note_id)
        if fresh and listing != self.files:
            # A note copied, moved in or edited elsewhere may now carry one of these ids too:
            # ask the vault's index, which reads every note's properties.
            fresh = {i for i in fresh if vault.find_all(i) == [vault.root / self.notes[i].path]}
        return fresh

    def _same_bytes(self, record: Record) -> bool:
        try:
            return digest((self.root / record.path).read_bytes()) == record.sha
        except OSError:
            return False

    def record(self, vault, note_id: str, path: Path, *, stamp: str, attachments=(), title: str = "",
               annotations: int = 0, listing: dict[str, list[int]]) -> None:
        """Remember the note of `note_id` as it is now on disk, and its line in `listing`."""
        try:
            data, stat = path.read_bytes(), path.stat()
        except OSError:
            self.notes.pop(note_id, None)
            return
        relative = vault.link(path)
        listing[relative] = [stat.st_size, stat.st_mtime_ns]
        self.notes[note_id] = Record(stamp, relative, digest(data),
                                     sorted(vault.link(a) for a in attachments), title, annotations)

    def forget(self, note_id: str) -> None:
        self.notes.pop(note_id, None)


def combine(*parts: str) -> str:
    return digest("\0".join(parts).encode("utf-8"))


def stat_key(path: str | os.PathLike) -> tuple | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns)
