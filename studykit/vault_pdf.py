"""A paper's PDF inside the vault (copied, hard-linked, or left in Zotero), replaced in place only
while the vault's copy is still the one studykit put there."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from studykit.errors import UserError
from studykit.model import Paper

if TYPE_CHECKING:
    from studykit.notes import Workspace


def pdf_in_vault(ws: Workspace, paper: Paper, note_path: Path, *, dry_run: bool = False) -> VaultPdf | None:
    """The paper's PDF as a path inside the vault, brought in when it is outside; None when it stays out.

    `pdf_attach`: "copy" (default) or "link" (a hard link; a copy where the file system has none)
    into the note's attachment folder; "zotero" leaves a Zotero item's PDF where Zotero keeps it
    (its notes link with zotero://). A vault is synced to other machines: a path out of it would break.
    """
    if not paper.pdf_path:
        return None
    source = Path(paper.pdf_path)
    root = ws.root.resolve()
    resolved = source.resolve()
    if resolved.is_relative_to(root):
        return VaultPdf(resolved.relative_to(root).as_posix())
    if (ws.config.pdf_attach == "zotero" and paper.zotero_link) or not resolved.is_file():
        return None
    from vault_export.names import safe_filename
    from vault_export.record import digest

    data = resolved.read_bytes()
    copied = ws.vault.records.get(paper.id).extra.get("pdf") or {}
    target, seen, note = _attachment_for(ws.vault, safe_filename(source.name), note_path, data, copied)
    if not dry_run and seen != data:
        _bring_in(resolved, data, target, seen, link=ws.config.pdf_attach == "link")
    copied = {"path": ws.vault.link(target), "digest": digest(data)}
    if not dry_run and os.path.samefile(resolved, target):  # a hard link: the reader's saves show in it
        copied["inode"] = os.stat(target).st_ino
    return VaultPdf(ws.vault.link(target), copied, note)


@dataclass
class VaultPdf:
    """Where the note links its PDF, what studykit copied there (for the note's record), and what to report."""

    link: str
    copied: dict | None = None  # {"path": vault-relative, "digest": of the bytes studykit put there}
    note: str = ""


def _attachment_for(vault, name: str, note_path: Path, data: bytes, copied: dict) -> tuple[Path, bytes | None, str]:
    """Where the PDF `data` goes, the bytes there now (None: no file), and a line for the reader.

    The copy studykit made at the last import is replaced while it still holds what studykit put
    there, or is still the hard link it made (the reader saved new highlights into their PDF); a
    file of that name that is not that copy is the reader's: it is kept, and the PDF goes to
    `stem-<digest>.pdf` beside it.
    """
    from vault_export.record import digest

    if copied.get("path") and vault.contains(vault.root / copied["path"]):
        ours = vault.root / copied["path"]
        current = bytes_of(ours)
        if current is not None and (digest(current) == copied.get("digest") or _inode(ours) == copied.get("inode")):
            return ours, current, ""
    target = vault.attachments_dir(note_path) / name
    current = bytes_of(target)
    if current is None or current == data:
        return target, current, ""
    stem, dot, ext = name.rpartition(".")
    other = target.with_name(f"{stem or ext}-{digest(data)[:8]}{dot}{ext if stem else ''}")
    return other, bytes_of(other), (f"{vault.link(target)}: another PDF by that name (another paper's, or changed "
                                      f"since studykit copied it); kept, and this paper's PDF is {vault.link(other)}")


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def bytes_of(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _bring_in(source: Path, data: bytes, target: Path, seen: bytes | None, *, link: bool) -> None:
    """`data` (the bytes of `source`) at `target`, replacing it only while it holds `seen` (None: a new file).
    A hard link where `link` asks for one and the file system allows it, else a copy (compare-and-swap)."""
    from vault_export.atomic import write_if_unchanged

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if link and _linked_in(source, target, seen):
            return
        if not write_if_unchanged(target, data, seen):
            raise UserError(f"{target}: changed while studykit was bringing {source.name} into the vault; run again")
    except OSError as exc:
        raise UserError(f"{source}: cannot bring the PDF into the vault ({target}): {exc.strerror}") from None


def _linked_in(source: Path, target: Path, seen: bytes | None) -> bool:
    """Hard-link `source` as `target` (which must hold `seen`, or not exist for None); False where no
    link can be made here (another file system) or `target` changed, so that the caller copies or says so."""
    from vault_export.atomic import temp_name

    temporary = temp_name(target)
    try:
        os.link(source, temporary)
    except OSError:
        return False
    try:
        if seen is None:
            os.link(temporary, target)  # fails when it exists: a file made meanwhile stays
        elif bytes_of(target) == seen:
            os.replace(temporary, target)  # the check and the rename are microseconds apart
        else:
            return False
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True
