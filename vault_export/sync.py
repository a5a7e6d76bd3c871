"""Putting a rendered note into the vault: create it once, then merge on every re-sync.

`write_note(vault, studykit_id, text, filename, *, folder=None, force=False, dry_run=False,
generated_keys=None) -> NoteWrite`:
- not in the vault yet (no note has `studykit-id: <id>`): the whole rendered `text` is written
  to `vault.new_note_path(filename, folder)`. Text outside managed regions (the reader's
  checklists, evaluation, questions) is written this once and belongs to the reader from then on.
- found (wherever the reader moved or renamed it): properties merged (`frontmatter.merge`;
  generated keys are `generated_keys`, default the keys of the rendered front matter), managed
  regions merged (`regions.merge`), the file written only if its bytes change.
- status: "created" | "updated" | "unchanged" | "conflict". "conflict" means something was
  kept for the reader (an edited region, invalid YAML, a second note with the same id, a note
  saved again and again while it was being merged); the rest of the note was still refreshed
  and `changed` says whether its bytes changed.
- every write is compare-and-swap (`atomic.write_if_unchanged`): the note is replaced only while
  it holds the bytes the merge read; a save that landed meanwhile is read and merged again, up to
  ATTEMPTS times, then reported as a conflict. A new note is created exclusively: a file someone
  made under its name meanwhile is left alone and the next free name taken.
- `dry_run=True` computes all of it, fills `diff` (a unified diff) and writes nothing.
- a re-sync whose input and note are both as the last clean sync left them returns "unchanged"
  without merging (`vault.records`); `force` always merges. A UTF-8 BOM is kept.
`studykit-id` is added to the rendered front matter if the template left it out.

`write_attachment(vault, name, data, note_path=None)` writes bytes under the vault's attachment
folder with a sanitised name (atomic, skipped when identical) and returns the path; link it
with `vault.link(path)`. Use distinctive names (citekey + what it is): an existing file of the
same name is replaced.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from vault_export import frontmatter, regions
from vault_export.atomic import write_atomic, write_if_unchanged
from vault_export.names import safe_filename
from vault_export.record import digest
from vault_export.vault import BOM, ID_KEY, Vault

STATUSES = ("created", "updated", "unchanged", "conflict")


@dataclass
class NoteWrite:
    """What `write_note` did (or, in a dry run, would do) to one note."""

    path: Path
    status: str  # one of STATUSES
    diff: str = ""  # unified diff, filled in dry runs
    conflicts: list[str] = field(default_factory=list)
    changed: bool = False  # the note's bytes differ from before


@dataclass
class NoteMerge:
    text: str
    conflicts: list[str]
    regions: regions.RegionMerge


def with_id(text: str, studykit_id: str) -> str:
    """`text` with `studykit-id: <id>` in its front matter; ValueError if it names another id."""
    part = frontmatter.split(text)
    if not part.open:
        return f"---\n{frontmatter.dump({ID_KEY: studykit_id})}---\n{text}"
    present = frontmatter.read_key(part.yaml, ID_KEY)
    if present is None:
        part.yaml += frontmatter.as_newline(frontmatter.dump({ID_KEY: studykit_id}), frontmatter.newline_of(part.open))
        return part.join()
    if str(present) != studykit_id:
        raise ValueError(f"rendered note has {ID_KEY} {present!r}, expected {studykit_id!r}")
    return text


def merge_note(existing: str, rendered: str, *, force: bool = False, known: set[str] | None = None,
               generated_keys: Iterable[str] | None = None, name: str = "note") -> NoteMerge:
    """The note `existing` with its properties and managed regions refreshed from `rendered`.

    `known`: the regions this note's record says studykit wrote into it (see `regions.merge`)."""
    bom = "\ufeff" if existing.startswith("\ufeff") else ""  # an editor's byte-order mark stays, before the ---
    old, new = frontmatter.split(existing[len(bom):]), frontmatter.split(rendered)
    prop_conflicts: list[str] = []
    if new.open and not old.open:  # the reader deleted the properties: the id must come back, fenced
        old.open = frontmatter.as_newline(new.open + new.yaml + new.close, frontmatter.newline_of(existing))
    elif old.open and new.open:
        keys = None if generated_keys is None else {*generated_keys, ID_KEY}
        props = frontmatter.merge(old.yaml, new.yaml, keys)
        prop_conflicts = [f"{name}: {message}" for message in props.conflicts]
        old.yaml = props.text
    body = regions.merge(old.body, new.body, force=force, known=known)
    old.body = body.text
    return NoteMerge(bom + old.join(), prop_conflicts + body.conflicts, body)


def _diff(vault: Vault, path: Path, before: str, after: str) -> str:
    rel = vault.link(path)
    lines = difflib.unified_diff(frontmatter.split_lines(before), frontmatter.split_lines(after),
                                 fromfile=f"a/{rel}" if before else "/dev/null", tofile=f"b/{rel}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


ATTEMPTS = 5  # merges of one note before a reader who keeps saving it gets a conflict instead


def write_note(vault: Vault, studykit_id: str, text: str, filename: str, *, folder: str | None = None,
               force: bool = False, dry_run: bool = False, generated_keys: Iterable[str] | None = None) -> NoteWrite:
    """Create or refresh the note of `studykit_id` from its rendered `text` (see the module doc)."""
    found = vault.find_all(studykit_id)
    input_hash = digest(f"{text}\0{sorted(generated_keys) if generated_keys is not None else ''}")
    if not found:
        return _create(vault, studykit_id, regions.seal(with_id(text, studykit_id)), filename, folder, input_hash, dry_run)
    record = vault.records.get(studykit_id)
    # Of two notes with one id (the reader copied it), the one studykit last wrote stays the one it updates.
    if len(found) > 1:
        found.sort(key=lambda p: vault.link(p) != record.path)
    path = found[0]
    conflicts = [f"{vault.link(p)}: has the same {ID_KEY} as {vault.link(path)}; only the latter is updated" for p in found[1:]]
    try:
        raw = vault.read(path)
    except FileNotFoundError:
        raw = None
    vault.release(path)
    rendered = None  # sealed only when a merge needs it: an unchanged re-sync of 1,000 notes merges none
    for _attempt in range(ATTEMPTS):
        if raw is None:
            return NoteWrite(path, "conflict", "", conflicts + [f"{vault.link(path)}: deleted or moved while studykit "
                                                                f"was writing it; run again"])
        # Same input as the last clean merge and a note nobody touched since: nothing can change.
        if record.rendered == input_hash and record.note == digest(raw) and not force:
            if record.path != vault.link(path):  # moved or renamed by the reader
                vault.records.put(studykit_id, replace(record, path=vault.link(path)))
                vault.records_changed()
            return NoteWrite(path, "conflict" if conflicts else "unchanged", "", conflicts, False)
        bom = BOM if raw.startswith(BOM) else b""
        try:
            existing = raw[len(bom):].decode("utf-8")
        except UnicodeDecodeError:
            return NoteWrite(path, "conflict", "", conflicts + [f"{vault.link(path)}: not UTF-8 text; left as it is"])
        rendered = rendered or regions.seal(with_id(text, studykit_id))
        merged = merge_note(existing, rendered, force=force, known=None if record.regions is None else set(record.regions),
                            generated_keys=generated_keys, name=vault.link(path))
        after = merged.text
        changed = after != existing
        problems = conflicts + merged.conflicts
        if dry_run:
            status = "conflict" if problems else "updated" if changed else "unchanged"
            return NoteWrite(path, status, _diff(vault, path, existing, after) if changed else "", problems, changed)
        data = bom + after.encode("utf-8")
        # Compare-and-swap: the merge saw `raw`; a save that landed since means merging again.
        if not changed or write_if_unchanged(path, data, raw):
            _remember(vault, studykit_id, path, merged.regions.known, input_hash if not problems else "",
                      data if not problems else b"")
            status = "conflict" if problems else "updated" if changed else "unchanged"
            return NoteWrite(path, status, "", problems, changed)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raw = None
    return NoteWrite(path, "conflict", "", conflicts + [
        f"{vault.link(path)}: changed {ATTEMPTS} times while studykit was merging it; left as it is, run again"])


def _create(vault: Vault, studykit_id: str, rendered: str, filename: str, folder: str | None, input_hash: str,
            dry_run: bool) -> NoteWrite:
    path = vault.new_note_path(filename, folder)
    if dry_run:
        return NoteWrite(path, "created", _diff(vault, path, "", rendered), [], True)
    # Exclusive create: a note someone made under this name since the folder was listed stays theirs.
    while not write_if_unchanged(path, rendered, None):
        vault.taken(path)
        path = vault.new_note_path(filename, folder)
    vault.register(studykit_id, path)
    _remember(vault, studykit_id, path, sorted(regions.rendered_regions(rendered)), input_hash, rendered.encode("utf-8"))
    return NoteWrite(path, "created", "", [], True)


def _remember(vault: Vault, studykit_id: str, path: Path, known, input_hash: str, data: bytes) -> None:
    """Record the note as this write left it; without a hash after a conflict, so the next sync merges again."""
    record = vault.records.get(studykit_id)
    vault.records.put(studykit_id, replace(record, path=vault.link(path), rendered=input_hash,
                                           note=digest(data) if data else "", regions=list(known)))
    vault.records_changed()


def record_note(vault: Vault, studykit_id: str, path: Path) -> None:
    """Take the note as it now stands as studykit's last write, after studykit itself changed it outside
    the regions (ran its code cells, say), so the next unchanged re-sync needs no merge and no write."""
    record = vault.records.get(studykit_id)
    if record.rendered:
        vault.records.put(studykit_id, replace(record, note=digest(path.read_bytes())))
        vault.records_changed()


def write_attachment(vault: Vault, name: str, data: bytes, note_path: Path | None = None, *, dry_run: bool = False) -> Path:
    """Write `data` as `name` (sanitised) into the attachment folder for `note_path`; return its path."""
    path = vault.attachments_dir(note_path) / safe_filename(name)
    if not dry_run:
        write_atomic(path, data)
    return path
