"""What studykit last wrote into each note: one record per note, one file per vault.

`.studykit/notes.json` holds, for each studykit-id, a `NoteRecord`: where the note is, the
caller's stamp of its source, the digest of the rendered input and of the note's bytes after the
last clean merge, the names of the regions studykit wrote, the attachments the note embeds, and
the caller's own `extra` fields. It also keeps the size and mtime of every note as the last run
left the vault, so that `fresh` can tell, from stats alone, that nothing was touched. The file is
a cache: losing it costs one full merge of every note (and a region the reader deleted comes
back once), never a reader's byte.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path

RECORDS_FILE = Path(".studykit") / "notes.json"
LEGACY_FOLDER = Path(".studykit") / "notes"  # one JSON per note, before notes.json
FORMAT = 2


def digest(data: str | bytes) -> str:
    """32 hex digits identifying `data` (text as UTF-8), for telling whether a note or its input changed."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()[:32]


@dataclass
class NoteRecord:
    """One note as studykit last left it."""

    path: str = ""  # vault-relative, "/" separators
    source: str = ""  # the caller's stamp of everything the note was made from; "" when unknown
    rendered: str = ""  # digest of the rendered input of the last clean merge
    note: str = ""  # digest of the note's bytes after it
    regions: list[str] | None = None  # region names studykit wrote into it; None: not known
    attachments: list[str] = field(default_factory=list)  # vault-relative files it embeds
    extra: dict = field(default_factory=dict)  # the caller's, kept as given

    @classmethod
    def from_json(cls, data: dict) -> NoteRecord:
        if not data.keys() <= _FIELDS:
            data = {k: v for k, v in data.items() if k in _FIELDS}
        record = cls(**data)
        if not isinstance(record.regions, list):
            record.regions = None
        return record


_FIELDS = frozenset(f.name for f in fields(NoteRecord))  # a record from a later studykit may hold more


class Records:
    """The records of one vault, loaded once per run and saved when changed."""

    def __init__(self, root: Path, notes: dict[str, NoteRecord] | None = None, files: dict | None = None):
        self.root = Path(root)
        self.notes = notes or {}
        self.files = files or {}  # vault-relative note path -> [size, mtime_ns] when the last run ended
        self.changed: set[str] = set()  # ids put since the load: `save` writes only these over the file
        self.loaded: tuple | None = None  # (size, mtime_ns) of the file as loaded

    @property
    def dirty(self) -> bool:
        return bool(self.changed)

    @classmethod
    def load(cls, root: Path) -> Records:
        path = Path(root) / RECORDS_FILE
        try:
            stat = path.stat()
            data = json.loads(path.read_bytes())
            if data.get("format") != FORMAT:
                return cls(root)
            notes = {str(k): NoteRecord.from_json(v) for k, v in data["notes"].items()}
            records = cls(root, notes, {str(k): list(v) for k, v in data["files"].items()})
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return cls(root)
        records.loaded = (stat.st_size, stat.st_mtime_ns)
        return records

    def _on_disk(self) -> tuple | None:
        try:
            stat = (self.root / RECORDS_FILE).stat()
        except OSError:
            return None
        return (stat.st_size, stat.st_mtime_ns)

    def get(self, note_id: str) -> NoteRecord:
        """The record of `note_id`; an empty one when there is none."""
        record = self.notes.get(note_id)
        return record if record is not None else self._legacy(note_id)

    def _legacy(self, note_id: str) -> NoteRecord:
        name = hashlib.sha256(note_id.encode("utf-8")).hexdigest()[:24]
        try:
            data = json.loads((self.root / LEGACY_FOLDER / f"{name}.json").read_text(encoding="utf-8"))
            regions = data.get("regions")
            return NoteRecord(regions=[str(r) for r in regions] if isinstance(regions, list) else None)
        except (OSError, ValueError, AttributeError):
            return NoteRecord()

    def put(self, note_id: str, record: NoteRecord) -> None:
        self.notes[note_id] = record
        self.changed.add(note_id)

    def save(self, listing: dict[str, list[int]] | None = None) -> None:
        """Write the records put since the load over what the file holds now (another `Records` of this
        vault, a guide or a dashboard written meanwhile, keeps its own), with `listing` as the vault's
        notes now when given; an unchanged file is not rewritten."""
        from vault_export.atomic import write_atomic

        if not self.changed and (listing is None or listing == self.files):
            return
        disk = self if self._on_disk() == self.loaded else Records.load(self.root)
        notes = {**disk.notes, **{k: self.notes[k] for k in self.changed}}
        files = disk.files if listing is None else listing
        data = {"format": FORMAT, "notes": {k: vars(v) for k, v in sorted(notes.items())},
                "files": dict(sorted(files.items()))}
        write_atomic(self.root / RECORDS_FILE, json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n",
                     durable=False)
        self.notes, self.files, self.changed, self.loaded = notes, files, set(), self._on_disk()
