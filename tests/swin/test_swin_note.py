"""The Swin sample paper's note: matched to Swin's registry by its arXiv id, it gets Swin's questions,
tags and pictures (drawn once, embedded, resolving in the vault), and none of ViT's."""

from __future__ import annotations

import yaml

from obsidian_checks import note_problems
from studykit import demo_pdf, notes
from studykit.sources.pdf import read_pdf

VIT_QUESTIONS = ("Patch Size", "[CLS] Token", "JFT-300M")


def test_swin_sample_note_embeds_its_registrys_pictures_and_questions(tmp_path):
    pdfs = []
    for sample in (demo_pdf.VIT, demo_pdf.SWIN):
        pdfs.append(tmp_path / f"{sample.arxiv}.pdf")
        demo_pdf.write_pdf(pdfs[-1], sample)
    paper = read_pdf(pdfs[1])
    assert paper.arxiv == "2103.14030" and len({a.color for a in paper.annotations}) >= 6
    vault = tmp_path / "vault"
    ws = notes.open_workspace(vault)
    [(_, vit), (_, swin)] = notes.write_papers(ws, [read_pdf(pdfs[0]), paper])
    text = swin.path.read_text(encoding="utf-8")
    for name in ("swin-2103.14030-windows.png", "swin-2103.14030-pyramid.png"):
        assert f"![[{name}]]" in text
        png = ws.vault.attachments_dir(swin.path) / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "**相对位置偏置 B 是什么？**" in text and "**为什么要 Shifted Windows？**" in text
    assert not any(q in text for q in VIT_QUESTIONS)
    assert "CV/backbone" in yaml.safe_load(text.split("---\n", 2)[1])["tags"]
    assert note_problems(vault, swin.path, to_write=set(_links(text))) == []
    vit_text = vit.path.read_text(encoding="utf-8")
    assert "windows.png" not in vit_text and "相对位置偏置" not in vit_text

    # A picture is drawn once: the reader's copy (or an edited one) is not redrawn by a second import.
    picture = ws.vault.attachments_dir(swin.path) / "swin-2103.14030-windows.png"
    picture.write_bytes(picture.read_bytes() + b"kept")
    notes.write_papers(ws, [paper])
    assert picture.read_bytes().endswith(b"kept")


def _links(text: str) -> list[str]:
    import re

    from vault_export import regions

    return re.findall(r"\[\[([^\]]+)\]\]", regions.rendered_regions(text).get("concepts", "").split("> [!")[0])
