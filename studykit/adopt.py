"""Notes an older studykit made under a PDF's document id alone, taken over by the PDF they name."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from studykit import note as note_context
from studykit.model import Paper

from studykit.vault_pdf import bytes_of

if TYPE_CHECKING:
    pass


def adopt(vault, paper: Paper, *, dry_run: bool = False) -> Path | None:
    """The note an older studykit made for this PDF under its document id alone (before the file name was
    part of a PDF's id), now carrying `paper.id` (in a dry run: found, and shown in the diff with it);
    None when there is none. A note whose `source` names another file is that copy's note and stays."""
    from studykit.sources.pdf_metadata import document_id
    from vault_export import frontmatter
    from vault_export.atomic import write_if_unchanged
    from vault_export.names import safe_filename
    from vault_export.vault import BOM, ID_KEY

    old_id = document_id(paper.id)
    if not old_id or not paper.pdf_path:
        return None
    name = Path(paper.pdf_path).name
    own_names = {_name_key(name), _name_key(safe_filename(name))}  # a copy in the vault, or the PDF itself
    for path in vault.find_all(old_id):
        raw = vault.read(path)
        bom = BOM if raw.startswith(BOM) else b""
        try:
            part = frontmatter.split(raw[len(bom):].decode("utf-8"))
            source = frontmatter.read_key(part.yaml, "source")
        except (UnicodeDecodeError, ValueError):
            continue
        if source and _name_key(_linked_pdf(str(source))) not in own_names:
            continue
        part.yaml, count = re.subn(rf"(?m)^({re.escape(ID_KEY)}:[ \t]*)(['\"]?){re.escape(old_id)}\2[ \t]*$",
                                   lambda m: m.group(1) + paper.id, part.yaml, count=1)
        if dry_run:
            vault.register(paper.id, path)  # write_note's merge shows the new id
            return path
        vault.release(path)
        if not count or not write_if_unchanged(path, bom + part.join().encode("utf-8"), raw):
            continue  # an id written some other way, or a save meanwhile: this run makes a new note
        vault.register(paper.id, path)
        vault.records.put(paper.id, replace(vault.records.get(old_id), path=vault.link(path)))
        return path
    return None


def drop_old_pictures(vault, paper: Paper, note_path: Path) -> None:
    """After an adopted note's clean merge: remove its area pictures named after the old id, each
    only where the note no longer embeds it and the new name holds the very same picture."""
    from studykit.sources.pdf_metadata import document_id

    folder = vault.attachments_dir(note_path)
    text = note_path.read_text(encoding="utf-8", errors="replace")
    for annotation in paper.annotations:
        old = folder / note_context.attachment_name(document_id(paper.id), annotation.id)
        new = folder / note_context.attachment_name(paper.id, annotation.id)
        if not annotation.image or old.name in text:
            continue
        before = bytes_of(old)  # read once: None when there is no old picture to drop
        if before is not None and before == bytes_of(new):
            old.unlink(missing_ok=True)


def _linked_pdf(source: str) -> str:
    """'paper.pdf' out of a `source` property: "[[attachments/paper-1a2b3c4d.pdf]]", a path, a link."""
    target = source.strip().removeprefix("[[").removesuffix("]]").split("|")[0].split("#")[0]
    name = target.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"-[0-9a-f]{8}(\.pdf)$", r"\1", name, flags=re.I)  # `_attachment_for`'s second copy


def _name_key(name: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", name).casefold()
