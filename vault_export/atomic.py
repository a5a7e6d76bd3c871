"""Atomic, compare-and-swap file writes: a file holds its old content or the new one, never a part.

`write_if_unchanged(path, data, seen)` is the one way studykit writes into a vault: it replaces
`path` only while it still holds `seen`, the bytes the caller read and merged (`seen=None`: the
file must not exist yet, an exclusive create). When someone else saved the file in between, it
writes nothing and returns False, so the caller re-reads and re-merges. The new bytes go to a
dot-prefixed temporary file beside `path` (Obsidian and most sync tools ignore dot files), are
fsynced, and then take the file's place:

- creation is `link(temp, path)`, which fails when `path` exists, so a note the reader created
  meanwhile is never replaced;
- replacement is an atomic exchange of the two names (Linux `renameat2(RENAME_EXCHANGE)`), so
  the bytes it displaced are still at hand: when they are not `seen` (a save landed after the
  check) they are swapped back and nothing is lost. Where the exchange is not available the file
  is checked once more right before `os.replace`, which leaves a window of microseconds.

Temporary names carry the writer's pid (`.NAME.PID.RANDOM.studykit-tmp`), so `stale_temps`
can tell the leftovers of a killed writer from a live writer's file. The folder is not fsynced:
after a power cut the rename may be lost, which leaves the old file, still whole. Text is encoded
as UTF-8 with no newline translation; an existing file keeps its permission bits; a symlinked
note is written through to its target.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from pathlib import Path

TEMP_SUFFIX = ".studykit-tmp"
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}" + re.escape(TEMP_SUFFIX) + "$")


def temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _encode(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _target(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.resolve() if path.is_symlink() else path


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _write_temp(path: Path, raw: bytes, *, durable: bool, mode: int | None) -> Path:
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
        if mode is not None:
            os.chmod(tmp, mode)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


_renameat2 = None


def _exchange(a: Path, b: Path) -> bool:
    """Swap the names `a` and `b` atomically; False where the system or file system cannot."""
    global _renameat2
    if _renameat2 is None:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _renameat2 = libc.renameat2
            _renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        except (OSError, AttributeError):
            _renameat2 = False
    if _renameat2 is False:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if _renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    import ctypes

    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))  # ENOENT: `b` was deleted meanwhile


def _create(path: Path, tmp: Path) -> bool:
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # No hard links here (some FUSE and network file systems): O_EXCL still refuses an
        # existing file; the content is written in place, as any editor would.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as handle:
            handle.write(tmp.read_bytes())
    return True


def _swap(path: Path, tmp: Path, raw: bytes, seen: bytes) -> bool:
    try:
        exchanged = _exchange(tmp, path)
    except FileNotFoundError:
        return False
    if not exchanged:
        if _read(path) != seen:
            return False
        os.replace(tmp, path)
        return True
    if _read(tmp) == seen:
        return True
    # A save landed between our check and the exchange: its bytes are now at `tmp`. Put them
    # back; if yet another save replaced ours meanwhile, that newer one goes back instead.
    _exchange(tmp, path)
    if _read(tmp) != raw:
        _exchange(tmp, path)
    return False


def write_if_unchanged(path: str | os.PathLike, data: str | bytes, seen: bytes | None, *,
                       durable: bool = True) -> bool:
    """Write `data` to `path` atomically only if the file still holds `seen` (None: must not exist).

    False, with nothing written, when the file holds anything else. True when `data` is in place,
    also when it was there already (then nothing is touched and the mtime stays).
    """
    path = _target(path)
    raw = _encode(data)
    try:
        before = path.stat()
    except FileNotFoundError:
        before = None
    if seen is None:
        if before is not None:
            return False
    else:
        if before is None or before.st_size != len(seen):
            return False
        current = path.read_bytes()
        if current != seen:
            return False
        if current == raw:
            return True
    tmp = _write_temp(path, raw, durable=durable, mode=None if before is None else before.st_mode & 0o7777)
    try:
        return _create(path, tmp) if seen is None else _swap(path, tmp, raw, seen)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: str | os.PathLike, data: str | bytes, *, durable: bool = True) -> bool:
    """Write `data` to `path` atomically, whatever it holds; False (nothing touched) when it already holds it.

    For files studykit alone writes (its caches and state). A reader's file goes through
    `write_if_unchanged`.
    """
    path = _target(path)
    raw = _encode(data)
    try:
        before = path.stat()
    except FileNotFoundError:
        before = None
    if before is not None and before.st_size == len(raw) and path.read_bytes() == raw:
        return False
    tmp = _write_temp(path, raw, durable=durable, mode=None if before is None else before.st_mode & 0o7777)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temps(folder: str | os.PathLike) -> list[Path]:
    """The temporary files in `folder` whose writer is no longer running (a kill's leftovers)."""
    found = []
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    for name in names:
        if not name.endswith(TEMP_SUFFIX):
            continue
        match = _TEMP.match(name)
        # Names without a pid come from studykit before pids were recorded: no writer is left.
        if match is None or not _alive(int(match["pid"])):
            found.append(Path(folder, name))
    return found
