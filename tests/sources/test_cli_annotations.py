"""`studykit annotations` run as a user runs it: a real subprocess on real PDFs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pymupdf
import pytest


def studykit(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "studykit", "annotations", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture
def pdf(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "Transformers need a lot of data but attention is global", fontsize=11)
    for phrase, color, comment in [("Transformers need", (1, 0.4, 0.4), ""),
                                   ("a lot of data", (0.945, 0.596, 0.216), "a limit"),
                                   ("attention is global", (1, 0.831, 0), "#question why global?")]:
        annot = page.add_highlight_annot(page.search_for(phrase, quads=True))
        annot.set_colors(stroke=color)
        annot.set_info(content=comment)
        annot.update()
    path = tmp_path / "paper.pdf"
    doc.save(path)
    return path


def test_json_lists_every_annotation_with_the_keys_others_read(pdf):
    result = studykit(pdf, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["text"], r["category"], r["comment"]) for r in rows] == [
        ("Transformers need", "contribution", ""),
        ("a lot of data", "limitation", "a limit"),
        ("attention is global", "question", "why global?"),
    ]
    for row in rows:
        assert {"kind", "page", "page_label", "text", "comment", "color", "category", "id"} <= set(row)


def test_table_groups_by_category(pdf):
    result = studykit(pdf)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("核心贡献 Contribution") < out.index("不足与未来 Limitation") < out.index("个人疑问 Question")
    assert "attention is global" in out and "why global?" in out


def test_vault_config_changes_the_code(pdf, tmp_path):
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "studykit.toml").write_text('[taxonomy.colors]\nresult = ["#ff6666"]\ncontribution = ["#000000"]\n')
    rows = json.loads(studykit(pdf, "--json", "--vault", vault).stdout)
    assert rows[0]["category"] == "result"
    (vault / "studykit.toml").write_text('[taxonomy]\ncolour = 1\n')
    result = studykit(pdf, "--vault", vault)
    assert result.returncode == 2 and "taxonomy.colour: unknown key" in result.stderr


def test_pdf_without_annotations_is_an_empty_list(tmp_path):
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 100), "clean", fontsize=11)
    doc.save(tmp_path / "clean.pdf")
    result = studykit(tmp_path / "clean.pdf", "--json")
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


@pytest.mark.parametrize("content, needle", [
    (b"hello, not a pdf\n", "not a PDF"),
    (None, "no such file"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_on_stdout(tmp_path, content, needle):
    path = tmp_path / "input.pdf"
    if content is not None:
        path.write_bytes(content)
    result = studykit(path, "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and needle in result.stderr and str(path) in result.stderr


def test_encrypted_pdf_asks_for_password(pdf, tmp_path):
    locked = tmp_path / "locked.pdf"
    pymupdf.open(pdf).save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw", owner_pw="o")
    result = studykit(locked)
    assert result.returncode == 2 and "--password" in result.stderr
    assert len(json.loads(studykit(locked, "--json", "--password", "pw").stdout)) == 3


def test_annotations_does_not_import_torch(pdf):
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "studykit", "annotations", str(pdf), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "torch" not in result.stderr


@pytest.mark.parametrize("table", [False, True], ids=["json", "table"])
def test_start_up_loads_no_module_it_does_not_use(pdf, table):
    """PyMuPDF's layout add-on (onnxruntime, numpy) and pymupdf4llm stay out; rich only for the table."""
    code = ("import sys; from studykit.cli import main; rc = main(['annotations', sys.argv[1], *sys.argv[2:]]); "
            "print([m for m in ('pymupdf.layout', 'pymupdf4llm', 'onnxruntime', 'numpy', 'rich', 'torch') "
            "if sys.modules.get(m) is not None], file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code, str(pdf), *([] if table else ["--json"])],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == ("['rich']" if table else "[]")


def test_several_files_give_one_json_list_per_line_in_order(pdf, tmp_path):
    empty = tmp_path / "empty.pdf"
    doc = pymupdf.open()
    doc.new_page()
    doc.save(empty)
    result = studykit(pdf, empty, pdf, "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [len(json.loads(line)) for line in lines] == [3, 0, 3]
    assert {row["source"] for row in json.loads(lines[0])} == {str(pdf)}


def test_a_bad_file_in_a_batch_is_one_line_and_the_others_are_still_listed(pdf, tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    result = studykit(bad, pdf, "--json")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"studykit: error: {bad}: not a PDF (no %PDF- header)"]
    assert [len(json.loads(line)) for line in result.stdout.splitlines()] == [3]


def test_a_picture_too_large_to_draw_is_a_warning_and_a_notice(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=14400, height=14400)  # the largest page PDF allows: 200 inches square
    page.add_rect_annot(page.rect + (10, 10, -10, -10)).update()
    doc.save(tmp_path / "huge.pdf")
    result = studykit(tmp_path / "huge.pdf", "--json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["has_image"] is False and row["notice"] == "no picture: the area is too large to draw"
    assert result.stderr.splitlines() == [
        f"studykit: warning: {tmp_path / 'huge.pdf'}: page 1: image annotation: picture not drawn, its area is too large"]


def test_table_shows_kind_and_replies(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 100), "remove these words", fontsize=11)
    struck = page.add_strikeout_annot(page.search_for("these words"))
    struck.set_info(content="why keep it?")
    struck.update()
    reply = page.add_text_annot((0, 0), "agreed, cut it")
    reply.set_info(title="Ann")
    reply.update()
    doc.xref_set_key(reply.xref, "IRT", f"{struck.xref} 0 R")
    doc.save(tmp_path / "thread.pdf")
    result = subprocess.run([sys.executable, "-m", "studykit", "annotations", str(tmp_path / "thread.pdf")],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "strikeout (删除 struck out)" in result.stdout
    assert "why keep it?" in result.stdout and "↳ Ann" in result.stdout and "agreed, cut it" in result.stdout
