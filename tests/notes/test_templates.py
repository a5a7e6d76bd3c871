"""Templates read nothing but templates: plain names from the vault's template folder or the package."""

from __future__ import annotations

import os
import pytest

from simple_paper import make_pdf
from studykit.cli import main
from studykit.config import load_config
from studykit.errors import UserError
from studykit.render import render
from zotero_fixture import build_library


def user_template(vault, text, name="legend.md.j2"):
    folder = vault / ".studykit" / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", ["/etc/passwd", "../../../../etc/passwd", "/proc/self/environ",
                                  "../studykit.toml", "sub/../../x.j2", "..", "C:\\Windows\\win.ini"])
def test_a_template_cannot_include_a_file_that_is_not_a_template(tmp_path, name):
    (tmp_path / "studykit.toml").write_text("# secret = 'hunter2'\n", encoding="utf-8")
    user_template(tmp_path, "{% include '" + name.replace("\\", "\\\\") + "' %}\n")
    with pytest.raises(UserError, match="template") as caught:
        render("legend.md.j2", {}, vault=tmp_path)
    assert "root:" not in str(caught.value) and "hunter2" not in str(caught.value)


def test_the_shipped_loader_takes_plain_names_only(tmp_path):
    for name in ("../render.py", "/etc/passwd", "../__init__.py"):
        with pytest.raises(UserError, match="only plain file names"):
            render(name, {})


def test_a_link_out_of_the_template_folder_is_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("API_KEY=123\n", encoding="utf-8")
    folder = user_template(tmp_path / "vault", "{% include 'x.j2' %}\n")
    (folder / "x.j2").symlink_to(secret)
    with pytest.raises(UserError, match="links out of"):
        render("legend.md.j2", {}, vault=tmp_path / "vault")


def test_a_template_includes_a_shipped_one_and_its_own_by_name(tmp_path):
    folder = user_template(tmp_path, "mine: {% include 'part.j2' %}")
    (folder / "part.j2").write_text("a part\n", encoding="utf-8")
    assert render("legend.md.j2", {}, vault=tmp_path) == "mine: a part\n"


def test_templates_dir_outside_the_vault_is_refused(tmp_path, capsys):
    vault, pdf = tmp_path / "vault", make_pdf(tmp_path / "a.pdf")
    (tmp_path / "elsewhere").mkdir()
    vault.mkdir()
    for setting in ("../elsewhere", "~", str(tmp_path / "elsewhere")):
        (vault / "studykit.toml").write_text(f"templates_dir = {setting!r}\n", encoding="utf-8")
        assert main(["import", str(pdf), "--vault", str(vault)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "templates_dir" in err and "outside the vault" in err
    assert not list(vault.rglob("*.md"))
    (vault / "studykit.toml").write_text("templates_dir = 'tpl'\n", encoding="utf-8")
    (vault / "tpl").mkdir()
    (vault / "tpl" / "legend.md.j2").write_text("---\ntitle: my legend\n---\nMY LEGEND\n", encoding="utf-8")
    assert main(["import", str(pdf), "--vault", str(vault)]) == 0
    assert "MY LEGEND" in (vault / "颜色编码 Colour Code.md").read_text(encoding="utf-8")
    assert render("legend.md.j2", {}, vault=vault, config=load_config(vault)) == "---\ntitle: my legend\n---\nMY LEGEND\n"


def test_an_unreadable_file_in_templates_dir_is_one_line(tmp_path, capsys, monkeypatch):
    vault, data = tmp_path / "vault", build_library(tmp_path / "Zotero", n_papers=1, annotations_per_paper=1)
    folder = user_template(vault, "x\n", name="notes.txt")
    os.chmod(folder / "notes.txt", 0)
    if os.geteuid() == 0:  # root reads a file whatever its mode: make the read fail as it would for the reader
        real = type(folder).read_bytes

        def read_bytes(path):
            if path.name == "notes.txt":
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(type(folder), "read_bytes", read_bytes)
    assert main(["sync", "--vault", str(vault), "--zotero-data-dir", str(data)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "notes.txt" in err and "cannot read" in err


def test_a_folder_where_a_template_should_be_and_a_non_utf8_template_are_one_line(tmp_path, capsys):
    vault, pdf = tmp_path / "vault", make_pdf(tmp_path / "a.pdf")
    folder = user_template(vault, "x\n")
    (folder / "legend.md.j2").write_bytes(b"\xff\xfe not UTF-8 \x81\n")
    assert main(["import", str(pdf), "--vault", str(vault)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "legend.md.j2" in err and "not UTF-8" in err
