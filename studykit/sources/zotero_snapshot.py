"""A consistent, private, read-only view of zotero.sqlite, also while Zotero runs.

Zotero 10 keeps its database in WAL mode with exclusive locking and the WAL index on the heap
(chrome/content/zotero/xpcom/db.js after 10.0.0, as issue 11 reads it; the indexed copy of
zotero/zotero predates it): its latest commits sit in `zotero.sqlite-wal` until a
checkpoint, and SQLite's `immutable=1` open ignores that file. So when a non-empty `-wal` is
there, both files are copied into a private temporary folder and the copy is read: the copy is
taken again when either file changed while it was copied (a checkpoint raced it), and kept only
once SQLite opens it. Copying takes no SQLite lock, so Zotero never sees one; nothing is
written next to the user's files. Without a `-wal` (Zotero 7 and 8, or Zotero closed) the file
is opened in place, immutable and lock-free.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Iterator

from studykit.errors import UserError

RETRIES = 5
RETRY_BASE_S = 0.05
WAL_FORMAT_BYTE = 18  # the file format write version in the database header: 2 is WAL
CLOSE_ZOTERO = "Zotero is writing or checkpointing it: close Zotero (or wait a minute) and try again"


def wal_file(db: Path) -> Path:
    return db.with_name(db.name + "-wal")


def in_wal_mode(db: Path) -> bool:
    """The database header says WAL, and there is a `-wal` holding frames not yet in the main file."""
    try:
        with db.open("rb") as f:
            header = f.read(WAL_FORMAT_BYTE + 1)
        wal_size = wal_file(db).stat().st_size
    except OSError:
        return False
    return len(header) > WAL_FORMAT_BYTE and header[WAL_FORMAT_BYTE] == 2 and wal_size > 0


@contextmanager
def snapshot(db: Path) -> Iterator[str]:
    """A SQLite URI to open: `db` itself (immutable) or a consistent private copy with its `-wal`."""
    if not in_wal_mode(db):
        yield db.resolve().as_uri() + "?immutable=1"
        return
    with tempfile.TemporaryDirectory(prefix="studykit-zotero-") as folder:
        copy = Path(folder) / db.name
        problem = ""
        for attempt in range(RETRIES):
            if attempt:
                time.sleep(RETRY_BASE_S * 2 ** attempt)
            try:
                problem = _copy_once(db, copy)
            except OSError as exc:
                problem = f"cannot be read ({exc.strerror or exc})"
            if not problem:
                break
        else:
            raise UserError(f"{wal_file(db)}: {problem} after {RETRIES} tries; {CLOSE_ZOTERO}")
        yield copy.as_uri()


def _copy_once(db: Path, copy: Path) -> str:
    """Copy the database and its `-wal`; '' when the copy is consistent, else what went wrong."""
    wal = wal_file(db)
    before = [_stat(db), _stat(wal)]
    for leftover in copy.parent.iterdir():
        leftover.unlink()
    # Not the -shm: SQLite rebuilds the WAL index from the -wal, and a copied one could only be stale.
    shutil.copyfile(db, copy)
    shutil.copyfile(wal, wal_file(copy))
    if [_stat(db), _stat(wal)] != before:
        return "changed while it was copied"
    try:
        with closing(sqlite3.connect(copy)) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        return f"the copy does not open ({exc})"
    return ""


def _stat(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns
