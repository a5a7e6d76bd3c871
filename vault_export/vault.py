"""An Obsidian vault on disk: where notes and attachments go, and finding a note by its id.

`Vault(root, papers_folder="Papers")`:
- `find_by_id(studykit_id)` -> the note whose `studykit-id` property equals it, wherever the
  reader moved or renamed it, or None. The first call walks the vault once (dot folders such as
  .obsidian, .trash, .studykit skipped; symlinked folders followed, each real folder once) and
  reads the front matter head of every *.md (a UTF-8 BOM allowed); later calls use that index,
  which `register` keeps current. Two notes with one id: the first by path wins, `find_all`
  lists them all.
- `new_note_path(filename, folder=None)` -> a path for a new note (".md" added) that no file in
  `folder` (vault-relative, default `papers_folder`) has, ignoring case and Unicode normalisation
  (macOS writes names decomposed), always inside the vault. Whoever creates it must do so
  exclusively and ask again, after `taken(path)`, when someone was faster.
- `attachments_dir(note_path=None)` -> the folder Obsidian would use: `.obsidian/app.json`
  attachmentFolderPath ("/" = vault root, "./sub" = beside the note, "name" = vault folder),
  else `attachments/`.
- `link(path)` -> the vault-relative POSIX path, for `[[...]]` and `![[...]]`.
- `records`: what studykit last wrote into each note (`vault_export.record`), loaded once.
- `session()`: the vault's lock for a whole run, the records saved once at its end, and the
  temporary files of killed writers found by the walk removed.
"""

from __future__ import annotations

import json
import os
import posixpath
import unicodedata
from contextlib import contextmanager
from pathlib import Path

from vault_export import frontmatter
from vault_export.atomic import TEMP_SUFFIX, stale_temps
from vault_export.lock import vault_lock
from vault_export.names import NOTE_STEM_MAX_BYTES, safe_filename
from vault_export.record import Records

ID_KEY = "studykit-id"
STATE_FOLDER = ".studykit"
DEFAULT_ATTACHMENTS = "attachments"
_HEAD_BYTES = 8192
_MAX_HEAD_BYTES = 1 << 20
BOM = b"\xef\xbb\xbf"


def _read_id(path: Path) -> str | None:
    """The note's studykit-id, reading only as much of the file as its front matter needs."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
            if head.startswith(BOM):
                head = head[len(BOM):]
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


class Vault:
    """One Obsidian vault; cheap to create, it reads the disk lazily and once."""

    def __init__(self, root: str | os.PathLike, papers_folder: str = "Papers"):
        self.root = Path(os.path.abspath(root))
        self.papers_folder = papers_folder
        self._index: dict[str, list[Path]] | None = None
        self._notes: list[Path] | None = None
        self._temps: set[Path] = set()
        self._names: dict[Path, set[str]] = {}
        self._app: dict | None = None
        self._records: Records | None = None
        self._session = False
        self._bytes: dict[Path, bytes] = {}

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
        full = os.path.normpath(os.path.join(self.root, path))
        inside = str(self.root) + os.sep  # a few times per note: no relpath for what is under the root
        relative = full[len(inside):] if full.startswith(inside) else os.path.relpath(full, self.root)
        return relative.replace(os.sep, "/")

    def new_note_path(self, filename: str, folder: str | os.PathLike | None = None) -> Path:
        """A path for a new note named `filename` that no file in its folder has, ignoring case."""
        where = self.folder(self.papers_folder if folder is None else folder)
        stem = filename[:-3] if filename.lower().endswith(".md") else filename
        stem = safe_filename(stem, max_bytes=NOTE_STEM_MAX_BYTES)
        taken = self._names_in(where)
        name, n = f"{stem}.md", 2
        while _name_key(name) in taken:
            name, n = f"{stem} {n}.md", n + 1
        return where / name

    def taken(self, path: Path) -> None:
        """Someone created `path` after this Vault listed its folder: `new_note_path` skips it now."""
        self._names_in(path.parent).add(_name_key(path.name))

    def _names_in(self, folder: Path) -> set[str]:
        if folder not in self._names:
            try:
                self._names[folder] = {_name_key(n) for n in os.listdir(folder)}
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
    def notes(self) -> list[Path]:
        """Every Markdown note Obsidian shows: *.md outside dot folders, walked once per Vault."""
        if self._notes is None:
            self._notes = []
            self._walk(self.root, set())
        return list(self._notes)

    def _walk(self, folder: Path, seen: set) -> None:
        try:
            real = os.stat(folder)
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        if (real.st_dev, real.st_ino) in seen:
            return  # a symlink loop, or a folder linked twice
        seen.add((real.st_dev, real.st_ino))
        for entry in entries:
            name = entry.name
            if name.endswith(TEMP_SUFFIX):
                self._temps.add(Path(folder))
            if name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()  # follows a symlinked folder: the reader's Papers/ may be one
            except OSError:
                continue
            if is_dir:
                self._walk(Path(entry.path), seen)
            elif name.endswith(".md"):
                self._notes.append(Path(entry.path))

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
        self.taken(path)

    def read(self, path: Path) -> bytes:
        """The bytes of the note at `path`, read once for a caller's look and `write_note`'s merge."""
        cached = self._bytes.get(path)
        if cached is None:
            cached = self._bytes[path] = path.read_bytes()
        return cached

    def release(self, path: Path) -> None:
        """Forget the bytes `read` kept: the next `read` goes to the disk."""
        self._bytes.pop(path, None)

    # -- what studykit wrote -------------------------------------------------------------
    @property
    def records(self) -> Records:
        if self._records is None:
            self._records = Records.load(self.root)
        return self._records

    def records_changed(self) -> None:
        """Save the records now, unless a `session` saves them once at its end."""
        if not self._session:
            self.records.save()

    def listing(self) -> dict[str, list[int]]:
        """Every note: vault-relative path -> [size, mtime_ns], from the one walk."""
        listing = {}
        skip = len(str(self.root)) + 1
        for path in self.notes():
            try:
                stat = os.stat(path)
            except OSError:
                continue
            listing[str(path)[skip:].replace(os.sep, "/")] = [stat.st_size, stat.st_mtime_ns]
        return listing

    @contextmanager
    def session(self, *, what: str = "studykit", wait: float = 120.0, on_wait=None):
        """Hold the vault's lock for a run (see `vault_lock`); the records are saved once, at the end."""
        with vault_lock(self.root, wait=wait, what=what, on_wait=on_wait):
            self._session = True
            try:
                self._clean_temps()
                yield self
            finally:
                self._session = False
                if self._records is not None and self._records.dirty:
                    self._records.save()

    def _clean_temps(self) -> None:
        """Remove what killed writers left: temporary files whose writer is no longer running."""
        self.notes()
        for folder in {*self._temps, self.root / ".studykit", self.attachments_dir()}:
            for path in stale_temps(folder):
                path.unlink(missing_ok=True)


def _name_key(name: str) -> str:
    """Names that one file system may treat as one file: case and Unicode normalisation ignored."""
    return unicodedata.normalize("NFC", name).casefold()
