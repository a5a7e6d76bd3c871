"""The Obsidian side of studykit: rendered Markdown in, notes in a vault out, the reader's edits kept.

It knows nothing of PDFs or Zotero. The parts, one job each:

- `names`: `note_filename(citekey=, first_author=, year=, title=)`, `safe_filename(name)`.
- `regions`: `wrap(name, content)` marks generated text as a managed region; `merge` refreshes them.
- `frontmatter`: `dump` (Obsidian-friendly YAML), `load`, `merge` (reader's keys and lines kept).
- `atomic`: `write_if_unchanged(path, data, seen) -> bool` (compare-and-swap; `seen=None`: exclusive
  create; False when the file changed: nothing written), `write_atomic` for studykit's own files.
- `vault`: `Vault(root, papers_folder)` with `find_by_id`, `new_note_path`, `attachments_dir`, `link`.
- `sync`: `write_note(vault, id, text, filename, ...) -> NoteWrite`, `write_attachment(...)`.

Typical use (one `Vault` per run: it indexes the vault once):

    vault = Vault(root)
    body = "# Title\\n\\n" + wrap("summary", summary_md) + "\\n\\n## My notes\\n\\n- [ ] ...\\n"
    text = "---\\n" + frontmatter.dump(properties) + "---\\n" + body
    result = write_note(vault, paper.id, text, note_filename(citekey=..., title=...))
"""

from vault_export.names import note_filename, safe_filename
from vault_export.regions import wrap
from vault_export.sync import NoteWrite, write_attachment, write_note
from vault_export.vault import Vault

__all__ = ["NoteWrite", "Vault", "note_filename", "safe_filename", "wrap", "write_attachment", "write_note"]
