"""Atomic writes: old or new content, never half; unchanged content is not written at all."""

import os
import random
import signal
import subprocess
import sys
import time

from vault_export import frontmatter
from vault_export.atomic import write_atomic


def test_identical_content_is_not_written(tmp_path):
    path = tmp_path / "n.md"
    assert write_atomic(path, "a\r\nb\n") is True
    before = path.stat()
    time.sleep(0.01)
    assert write_atomic(path, "a\r\nb\n") is False
    after = path.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    assert path.read_bytes() == b"a\r\nb\n"  # no newline translation


def test_mode_is_kept_and_no_temp_file_remains(tmp_path):
    path = tmp_path / "n.md"
    path.write_text("old")
    os.chmod(path, 0o640)
    assert write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and (path.stat().st_mode & 0o777) == 0o640
    assert os.listdir(tmp_path) == ["n.md"]


def test_new_file_mode_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "sub" / "new.md", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "sub" / "new.md").stat().st_mode & 0o777 == 0o644


def test_symlinked_note_is_written_through(tmp_path):
    target = tmp_path / "real.md"
    target.write_text("old")
    link = tmp_path / "link.md"
    link.symlink_to(target)
    write_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


WRITER = """
import sys
from vault_export.atomic import write_atomic
path, a, b = sys.argv[1], open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
print("ready", flush=True)
i = 0
while True:
    write_atomic(path, a if i % 2 else b)
    i += 1
"""


def big_note(tag: str) -> bytes:
    head = frontmatter.dump({"title": f"version {tag}", "tags": [tag], "studykit-id": "pdf:kill"})
    body = "".join(f"- line {i} of version {tag} ✓\n" for i in range(60_000))
    return f"---\n{head}---\n{body}".encode("utf-8")


def test_sigkill_during_writes_leaves_old_or_new_note(tmp_path):
    a, b = big_note("A"), big_note("B")
    (tmp_path / "a.bin").write_bytes(a)
    (tmp_path / "b.bin").write_bytes(b)
    vault = tmp_path / "vault"
    vault.mkdir()
    note = vault / "note.md"
    note.write_bytes(a)
    rng = random.Random(4)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(note), str(tmp_path / "a.bin"), str(tmp_path / "b.bin")],
                                stdout=subprocess.PIPE, env=env)
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.05, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        data = note.read_bytes()
        assert data in (a, b)
        assert frontmatter.load(frontmatter.split(data.decode("utf-8")).yaml)["title"] in ("version A", "version B")
        visible = [n for n in os.listdir(vault) if not n.startswith(".")]
        assert visible == ["note.md"]  # a temp file a kill left behind is a dot file Obsidian ignores
