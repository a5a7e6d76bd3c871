"""Write a file whole or not at all: into a temporary file beside it, then rename over it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write to; on success it replaces `path`, so a crash never leaves half a file."""
    path = Path(path)
    # Same folder (a rename within one file system is atomic), same suffix (savefig picks the format by it).
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is private; what we write is not
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
