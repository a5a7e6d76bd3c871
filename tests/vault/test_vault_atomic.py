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


# --- compare-and-swap ------------------------------------------------------------------------

from vault_export import atomic  # noqa: E402
from vault_export.atomic import stale_temps, write_if_unchanged  # noqa: E402


def test_exclusive_create_refuses_a_file_that_exists(tmp_path):
    path = tmp_path / "n.md"
    assert write_if_unchanged(path, "mine", None) is True
    assert path.read_bytes() == b"mine"
    assert write_if_unchanged(path, "other", None) is False
    assert path.read_bytes() == b"mine" and os.listdir(tmp_path) == ["n.md"]


def test_replace_only_while_the_file_holds_what_was_seen(tmp_path):
    path = tmp_path / "n.md"
    path.write_bytes(b"v1")
    os.chmod(path, 0o640)
    assert write_if_unchanged(path, "v2", b"v0") is False
    assert path.read_bytes() == b"v1"
    assert write_if_unchanged(path, "v2", b"v1") is True
    assert path.read_bytes() == b"v2" and (path.stat().st_mode & 0o777) == 0o640
    assert os.listdir(tmp_path) == ["n.md"]
    path.unlink()
    assert write_if_unchanged(path, "v3", b"v2") is False and not path.exists()  # deleted meanwhile


def test_already_in_place_touches_nothing(tmp_path):
    path = tmp_path / "n.md"
    path.write_bytes(b"same")
    before = path.stat()
    time.sleep(0.01)
    assert write_if_unchanged(path, "same", b"same") is True
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def _save_lands_while_the_temp_is_written(monkeypatch, path, saved):
    real = atomic._write_temp

    def write_temp(*args, **kwargs):
        tmp = real(*args, **kwargs)
        path.write_bytes(saved)  # the reader's editor saves after our check, before our rename
        return tmp

    monkeypatch.setattr(atomic, "_write_temp", write_temp)


def test_a_save_after_the_check_is_swapped_back(tmp_path, monkeypatch):
    path = tmp_path / "n.md"
    path.write_bytes(b"v1")
    _save_lands_while_the_temp_is_written(monkeypatch, path, b"reader's save")
    assert write_if_unchanged(path, "studykit", b"v1") is False
    assert path.read_bytes() == b"reader's save" and os.listdir(tmp_path) == ["n.md"]


def test_a_save_after_the_check_is_kept_without_the_exchange(tmp_path, monkeypatch):
    path = tmp_path / "n.md"
    path.write_bytes(b"v1")
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    _save_lands_while_the_temp_is_written(monkeypatch, path, b"reader's save")
    assert write_if_unchanged(path, "studykit", b"v1") is False
    assert path.read_bytes() == b"reader's save" and os.listdir(tmp_path) == ["n.md"]


def test_a_note_created_after_the_check_is_not_replaced(tmp_path, monkeypatch):
    path = tmp_path / "n.md"
    _save_lands_while_the_temp_is_written(monkeypatch, path, b"reader's new note")
    assert write_if_unchanged(path, "studykit", None) is False
    assert path.read_bytes() == b"reader's new note" and os.listdir(tmp_path) == ["n.md"]


def test_stale_temps_are_those_of_writers_no_longer_running(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, timeout=60).stdout.strip()
    (tmp_path / f".n.md.{dead}.0123abcd.studykit-tmp").write_text("half")
    (tmp_path / f".n.md.{os.getpid()}.0123abcd.studykit-tmp").write_text("being written")
    (tmp_path / ".n.md.0123abcd.studykit-tmp").write_text("old style, no pid")
    (tmp_path / "n.md").write_text("note")
    assert sorted(p.name for p in stale_temps(tmp_path)) == sorted(
        [f".n.md.{dead}.0123abcd.studykit-tmp", ".n.md.0123abcd.studykit-tmp"])
