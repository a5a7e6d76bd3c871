"""Atomic file writes: the file holds either its old content or the new one, never a part.

`write_atomic(path, data)` writes a dot-prefixed temporary file beside `path` (Obsidian and
most sync tools ignore dot files), fsyncs it and renames it over `path`. The folder is not
fsynced: after a power cut the rename may be lost, which leaves the old file, still whole;
that keeps a 1,000-note sync from waiting on twice the disk flushes. `durable=False` skips the
file fsync too, for caches that may be lost. Identical content is not written at all, so the mtime stays. Text is encoded as UTF-8 with no
newline translation (CRLF stays CRLF). An existing file keeps its permission bits; a symlinked
note is written through to its target.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TEMP_SUFFIX = ".studykit-tmp"


def temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def write_atomic(path: str | os.PathLike, data: str | bytes, *, durable: bool = True) -> bool:
    """Write `data` to `path` atomically; False (and nothing touched) when it already holds it."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        before = path.stat()
    except FileNotFoundError:
        before = None
    if before is not None and before.st_size == len(raw) and path.read_bytes() == raw:
        return False

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    # os.open with 0o666 lets the umask decide a new file's mode, as an ordinary write would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if before is not None:
            os.chmod(tmp, before.st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True

