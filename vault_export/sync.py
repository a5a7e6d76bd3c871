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
  kept for the reader (an edited region, invalid YAML, a second note with the same id); the rest
  of the note was still refreshed and `changed` says whether its bytes changed.
- `dry_run=True` computes all of it, fills `diff` (a unified diff) and writes nothing.
- a re-sync whose input and note are both as the last clean sync left them returns "unchanged"
  without merging (hashes in `vault.note_state`); `force` always merges.
`studykit-id` is added to the rendered front matter if the template left it out.

`write_attachment(vault, name, data, note_path=None)` writes bytes under the vault's attachment
folder with a sanitised name (atomic, skipped when identical) and returns the path; link it
with `vault.link(path)`. Use distinctive names (citekey + what it is): an existing file of the
same name is replaced.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from vault_export import frontmatter, regions
from vault_export.atomic import write_atomic
from vault_export.names import safe_filename
from vault_export.vault import ID_KEY, NoteState, Vault

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
    line = frontmatter.dump({ID_KEY: studykit_id})
    if not part.open:
        return f"---\n{line}---\n{text}"
    present = frontmatter.read_key(part.yaml, ID_KEY)
    if present is None:
        part.yaml += frontmatter.as_newline(line, frontmatter.newline_of(part.open))
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


def digest(data: str | bytes) -> str:
    """32 hex digits identifying `data` (text as UTF-8), for telling whether a note or its input changed."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()[:32]


def write_note(vault: Vault, studykit_id: str, text: str, filename: str, *, folder: str | None = None,
               force: bool = False, dry_run: bool = False, generated_keys: Iterable[str] | None = None) -> NoteWrite:
    """Create or refresh the note of `studykit_id` from its rendered `text` (see the module doc)."""
    found = vault.find_all(studykit_id)
    path = found[0] if found else vault.new_note_path(filename, folder)
    conflicts = [f"{vault.link(p)}: has the same {ID_KEY} as {vault.link(path)}; only the latter is updated" for p in found[1:]]
    state = vault.note_state(studykit_id) if found else NoteState()
    input_hash = digest(f"{text}\0{sorted(generated_keys) if generated_keys is not None else ''}")
    if found:
        raw = path.read_bytes()
        # Same input as the last clean merge and a note nobody touched since: nothing can change.
        if state.rendered == input_hash and state.note == digest(raw) and not force:
            return NoteWrite(path, "conflict" if conflicts else "unchanged", "", conflicts, False)
        try:
            existing = raw.decode("utf-8")
        except UnicodeDecodeError:
            return NoteWrite(path, "conflict", "", conflicts + [f"{vault.link(path)}: not UTF-8 text; left as it is"])

    rendered = regions.seal(with_id(text, studykit_id))
    if found:
        merged = merge_note(existing, rendered, force=force, known=None if state.regions is None else set(state.regions),
                            generated_keys=generated_keys, name=vault.link(path))
        after, known = merged.text, merged.regions.known
        conflicts += merged.conflicts
    else:
        existing, after, known = "", rendered, sorted(regions.rendered_regions(rendered))
    changed = after != existing
    if not dry_run:
        if changed:
            write_atomic(path, after)
        if not found:
            vault.register(studykit_id, path)
        clean = not conflicts
        vault.save_note_state(studykit_id, NoteState(list(known), input_hash if clean else "", digest(after) if clean else ""))
    status = "created" if not found else "conflict" if conflicts else "updated" if changed else "unchanged"
    return NoteWrite(path, status, _diff(vault, path, existing, after) if dry_run and changed else "", conflicts, changed)


def record_note(vault: Vault, studykit_id: str, path: Path) -> None:
    """Take the note as it now stands as studykit's last write, after studykit itself changed it outside
    the regions (ran its code cells, say), so the next unchanged re-sync needs no merge and no write."""
    state = vault.note_state(studykit_id)
    if state.rendered:
        vault.save_note_state(studykit_id, NoteState(state.regions, state.rendered, digest(path.read_bytes()), state.extra))


def write_attachment(vault: Vault, name: str, data: bytes, note_path: Path | None = None, *, dry_run: bool = False) -> Path:
    """Write `data` as `name` (sanitised) into the attachment folder for `note_path`; return its path."""
    path = vault.attachments_dir(note_path) / safe_filename(name)
    if not dry_run:
        write_atomic(path, data)
    return path
