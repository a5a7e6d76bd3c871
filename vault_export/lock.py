"""One studykit writer per vault at a time: `.studykit/lock`, held with the holder's pid.

The lock is an advisory `flock` on the file, so the system releases it when its holder exits,
even by kill -9: a lock is never left stale. The file says who holds it ("pid 4242 studykit
sync since 2026-11-26T10:00:00"), for the message a second run prints while it waits, and is
removed when the run ends (so a run leaves the vault's files as they were); a waiter that then
holds a removed file's lock starts over on the new one.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

LOCK_FILE = Path(".studykit") / "lock"


class VaultBusy(Exception):
    """Another process held the vault for longer than we were willing to wait."""


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 200).decode("utf-8", errors="replace").strip() or "another process"
    except OSError:
        return "another process"


@contextmanager
def vault_lock(root: str | os.PathLike, *, wait: float = 120.0, what: str = "studykit", on_wait=None):
    """Hold the vault's lock for the `with` block; wait up to `wait` seconds for another holder.

    `on_wait(holder)` is called once when the vault is busy; `VaultBusy` names the holder when the
    wait runs out.
    """
    path = Path(root) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        if not _acquire(fd, deadline, on_wait):
            holder = _holder(fd)
            os.close(fd)
            raise VaultBusy(f"{path}: the vault is in use by {holder}; try again when it has finished")
        if _same_file(fd, path):
            break
        os.close(fd)  # the holder removed the file as we got its lock: lock the one that is there now
        on_wait = None
    try:
        stamp = f"pid {os.getpid()} {what} since {datetime.now().isoformat(timespec='seconds')}\n"
        os.write(fd, stamp.encode("utf-8"))
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)  # closing releases the flock


def _same_file(fd: int, path: Path) -> bool:
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def _acquire(fd: int, deadline: float, on_wait) -> bool:
    if sys.platform == "win32":  # no flock: msvcrt's byte-range lock does the same job there
        import msvcrt

        def try_lock() -> bool:
            try:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return True
            except OSError:
                return False
    else:
        import fcntl

        def try_lock() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False

    if try_lock():
        return True
    if on_wait is not None:
        on_wait(_holder(fd))
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if try_lock():
            return True
    return False
