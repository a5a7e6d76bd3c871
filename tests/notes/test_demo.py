"""`studykit demo`: the vault README's first command builds, and a second run changes nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from obsidian_checks import note_problems
from studykit import demo_pdf
from studykit.cli import main
from vault_export import regions


def files(vault: Path) -> dict:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in vault.rglob("*") if p.is_file()}


def test_sample_pdf_is_the_same_bytes_every_time():
    assert demo_pdf.build_pdf() == demo_pdf.build_pdf()


@pytest.mark.slow
def test_demo_builds_a_vault_with_linked_equations_and_is_idempotent(tmp_path, capsys):
    vault = tmp_path / "DemoVault"
    # The first run in this process (torch is loaded already: ~2 s less); the second, which must
    # change nothing, as a real process that starts afresh, as the reader's next run does.
    code = main(["demo", str(vault)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Open it in Obsidian" in out
    vit, swin = sorted((vault / "Papers").glob("*.md"), key=lambda p: "Swin" in p.name)
    note = vit
    text = note.read_text(encoding="utf-8")
    for n in range(1, 5):
        assert f"### Eq.{n} " in text
    assert "![[vit-2010.11929-model-shapes.png]]" in text and "-eq1-shapes.png" not in text  # lean by default
    assert text.count("```cell-output") == 4 and "(2, 197, 768)" in text  # the cells ran
    # The implementing code is in the note itself, with its place in the package.
    assert text.count("> [!example]- 实现 (Implemented by)") == 4 and "`vit_impl/sublayers.py`, lines " in text
    assert "> class ClassTokenNorm(nn.Module):" in text
    concepts = {link for t in (text, swin.read_text(encoding="utf-8")) for link in
                re.findall(r"\[\[([^\]]+)\]\]", regions.rendered_regions(t)["concepts"].split("> [!")[0])}
    for path in vault.rglob("*.md"):  # no junk card, no file:// link, every link resolves, ...
        assert note_problems(vault, path, to_write=concepts) == [], path
    for swatch in ("🔴", "🟡", "🔵", "🟢", "🟣", "🟠", "⚪", "🩵"):
        assert f"> [!quote] {swatch}" in text
    assert "> [!note] 📝" in text  # the sticky note
    assert (vault / "颜色编码 Colour Code.md").is_file()
    # The second paper, from its own registry: its equations, cells, pictures and questions, none of ViT's.
    swin_text = swin.read_text(encoding="utf-8")
    assert all(f"### Eq.{n} " in swin_text for n in range(1, 5)) and "Omega(W-MSA)" in swin_text
    assert swin_text.count("```cell-output") == 4 and "(2, 28, 28, 192)" in swin_text  # the Swin cells ran
    assert "![[swin-2103.14030-windows.png]]" in swin_text and "![[swin-2103.14030-pyramid.png]]" in swin_text
    assert "相对位置偏置" in swin_text and "CLS" not in swin_text and "> [!quote] 🔵" in swin_text

    before = files(vault)
    again = subprocess.run([sys.executable, "-m", "studykit", "demo", str(vault)], capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert files(vault) == before


def test_demo_into_a_file_is_one_line_exit_2(tmp_path):
    target = tmp_path / "file"
    target.write_text("")
    proc = subprocess.run([sys.executable, "-m", "studykit", "demo", str(target)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "is a file" in proc.stderr and "Traceback" not in proc.stderr
