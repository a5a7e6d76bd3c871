"""An Obsidian vault on disk: where notes and attachments go, and finding a note by its id.

`Vault(root, papers_folder="Papers")`:
- `find_by_id(studykit_id)` -> the note whose `studykit-id` property equals it, wherever the
  reader moved or renamed it, or None. The first call reads the front matter head of every
  *.md once (dot folders such as .obsidian, .trash, .studykit are skipped); later calls use
  that index, which `register` keeps current. Two notes with one id: the first by path wins,
  `find_all` lists them all.
- `new_note_path(filename, folder=None)` -> a free path for a new note (".md" added), unique
  ignoring case, in `folder` (vault-relative, default `papers_folder`), always inside the vault.
- `attachments_dir(note_path=None)` -> the folder Obsidian would use: `.obsidian/app.json`
  attachmentFolderPath ("/" = vault root, "./sub" = beside the note, "name" = vault folder),
  else `attachments/`.
- `link(path)` -> the vault-relative POSIX path, for `[[...]]` and `![[...]]`.
- `note_state(id)` / `save_note_state(id, state)`: what studykit last did to a note, kept in
  `.studykit/notes/<hash>.json` (a cache; losing it costs speed, and a region the reader
  deleted comes back): the region names it wrote, so a region the reader deleted is told from
  a new one, and hashes of the last rendered input and of the note, so an unchanged re-sync
  skips the merge.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vault_export import frontmatter
from vault_export.atomic import write_atomic
from vault_export.names import NOTE_STEM_MAX_BYTES, safe_filename

ID_KEY = "studykit-id"
STATE_FOLDER = ".studykit"
DEFAULT_ATTACHMENTS = "attachments"
_HEAD_BYTES = 8192
_MAX_HEAD_BYTES = 1 << 20


def _read_id(path: Path) -> str | None:
    """The note's studykit-id, reading only as much of the file as its front matter needs."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
            if not head.startswith(b"---"):
                return None
            while b"\n---" not in head[3:] and b"\n..." not in head[3:] and len(head) < _MAX_HEAD_BYTES:
                more = handle.read(_HEAD_BYTES * 4)
                if not more:
                    break
                head += more
    except OSError:
        return None
    if ID_KEY.encode() not in head:
        return None
    value = frontmatter.read_key(frontmatter.split(head.decode("utf-8", errors="replace")).yaml, ID_KEY)
    return str(value) if value not in (None, "") else None


@dataclass
class NoteState:
    """What studykit last did to one note."""

    regions: list[str] | None = None  # region names written into it; None: not known
    rendered: str = ""  # hash of the rendered input of the last clean merge
    note: str = ""  # hash of the note's bytes after it
    extra: dict = field(default_factory=dict)  # room for later versions


class Vault:
    """One Obsidian vault; cheap to create, it reads the disk lazily and once."""

    def __init__(self, root: str | os.PathLike, papers_folder: str = "Papers"):
        self.root = Path(os.path.abspath(root))
        self.papers_folder = papers_folder
        self._index: dict[str, list[Path]] | None = None
        self._names: dict[Path, set[str]] = {}
        self._app: dict | None = None

    # -- paths -------------------------------------------------------------------------
    def folder(self, relative: str | os.PathLike | None) -> Path:
        """The vault folder for a vault-relative path; "..", "/" and odd characters cannot leave it."""
        parts = str(relative or "").replace("\\", "/").split("/")
        clean = [safe_filename(p) for p in parts if p.strip() not in ("", ".", "..")]
        return self.root.joinpath(*clean)

    def contains(self, path: str | os.PathLike) -> bool:
        normal = os.path.normpath(os.path.join(self.root, path))
        return normal == str(self.root) or normal.startswith(str(self.root) + os.sep)

    def link(self, path: str | os.PathLike) -> str:
        """`path` relative to the vault root, with "/" separators."""
        return Path(os.path.relpath(os.path.join(self.root, path), self.root)).as_posix()

    def new_note_path(self, filename: str, folder: str | os.PathLike | None = None) -> Path:
        """A path for a new note named `filename` that no file in its folder has, ignoring case."""
        where = self.folder(self.papers_folder if folder is None else folder)
        stem = filename[:-3] if filename.lower().endswith(".md") else filename
        stem = safe_filename(stem, max_bytes=NOTE_STEM_MAX_BYTES)
        taken = self._names_in(where)
        name, n = f"{stem}.md", 2
        while name.casefold() in taken:
            name, n = f"{stem} {n}.md", n + 1
        return where / name

    def _names_in(self, folder: Path) -> set[str]:
        if folder not in self._names:
            try:
                self._names[folder] = {n.casefold() for n in os.listdir(folder)}
            except OSError:
                self._names[folder] = set()
        return self._names[folder]

    def attachments_dir(self, note_path: str | os.PathLike | None = None) -> Path:
        """Where Obsidian puts a pasted file for the note at `note_path`."""
        setting = self._app_config().get("attachmentFolderPath")
        if not isinstance(setting, str):
            return self.root / DEFAULT_ATTACHMENTS
        setting = setting.strip().replace("\\", "/")
        if setting in ("", "/"):
            return self.root
        if setting == "." or setting.startswith("./"):
            note_folder = Path(note_path).parent if note_path else self.folder(self.papers_folder)
            inside = posixpath.normpath(posixpath.join(self.link(note_folder), setting))
        else:
            inside = posixpath.normpath(setting.strip("/"))
        if inside == ".." or inside.startswith("../") or not self.contains(inside):
            return self.root / DEFAULT_ATTACHMENTS
        return self.folder(inside)

    def _app_config(self) -> dict:
        if self._app is None:
            try:
                data = json.loads((self.root / ".obsidian" / "app.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}
            self._app = data if isinstance(data, dict) else {}
        return self._app

    # -- finding notes -----------------------------------------------------------------
    def notes(self):
        """Every Markdown note Obsidian shows: *.md outside dot folders."""
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.endswith(".md") and not name.startswith("."):
                    yield Path(folder, name)

    def _build_index(self) -> dict[str, list[Path]]:
        index: dict[str, list[Path]] = {}
        for path in self.notes():
            note_id = _read_id(path)
            if note_id:
                index.setdefault(note_id, []).append(path)
        return index

    def find_all(self, studykit_id: str) -> list[Path]:
        if self._index is None:
            self._index = self._build_index()
        return [p for p in self._index.get(studykit_id, ()) if p.exists()]

    def find_by_id(self, studykit_id: str) -> Path | None:
        found = self.find_all(studykit_id)
        return found[0] if found else None

    def register(self, studykit_id: str, path: Path) -> None:
        """Record a note written under `studykit_id` so this Vault finds it without rescanning."""
        if self._index is None:
            self._index = self._build_index()
        paths = self._index.setdefault(studykit_id, [])
        if path not in paths:
            paths.insert(0, path)
        self._names_in(path.parent).add(path.name.casefold())

    # -- what studykit wrote -------------------------------------------------------------
    def _state_file(self, studykit_id: str) -> Path:
        digest = hashlib.sha256(studykit_id.encode("utf-8")).hexdigest()[:24]
        return self.root / STATE_FOLDER / "notes" / f"{digest}.json"

    def note_state(self, studykit_id: str) -> NoteState:
        try:
            data = json.loads(self._state_file(studykit_id).read_text(encoding="utf-8"))
            regions = data.get("regions")
            return NoteState(
                regions=[str(r) for r in regions] if isinstance(regions, list) else None,
                rendered=str(data.get("rendered", "")), note=str(data.get("note", "")),
            )
        except (OSError, ValueError, AttributeError):
            return NoteState()

    def save_note_state(self, studykit_id: str, state: NoteState) -> None:
        data = {"id": studykit_id, **{k: v for k, v in asdict(state).items() if k != "extra"}}
        write_atomic(self._state_file(studykit_id), json.dumps(data, ensure_ascii=False) + "\n", durable=False)
