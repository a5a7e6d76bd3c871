"""A vault built from real PDFs reads right in Obsidian on every machine it syncs to.

Every note passes obsidian_checks.note_problems (no file:// link, every link and embed resolves in
the vault, unique block ids, no Spaced Repetition junk card, display math where `$$` stands); the
PDFs are brought into the vault as `pdf_attach` says; a paper no registry knows gets no ViT content.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from locations import corpus, needs_corpus
from obsidian_checks import note_problems, rendered_text
from studykit import notes
from studykit.errors import UserError
from studykit.model import Annotation, Category, Paper
from studykit.note import inline
from studykit.sources.pdf import read_pdf
from vault_export import regions


REALWORLD, PDFANNOTS = corpus("realworld"), corpus("pdfannots")


def _import(vault: Path, pdfs, toml: str = "") -> list[Path]:
    if toml:
        vault.mkdir(parents=True, exist_ok=True)
        (vault / "studykit.toml").write_text(toml, encoding="utf-8")
    ws = notes.open_workspace(vault)
    papers = [read_pdf(pdf) for pdf in pdfs]
    return [result.path for _paper, result in notes.write_papers(ws, papers)]


def _concepts(text: str) -> set[str]:
    """The paper note's [[concept]] links: notes the reader writes, so they need not resolve yet."""
    found = regions.rendered_regions(text).get("concepts", "").split("> [!")[0]
    return set(re.findall(r"\[\[([^\]]+)\]\]", found))


def _properties(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n", 2)[1])


@needs_corpus("realworld", "pdfannots")
def test_a_vault_of_real_pdfs_passes_every_obsidian_check(tmp_path):
    vault = tmp_path / "vault"
    readable = []
    for pdf in sorted((REALWORLD).glob("*.pdf")) + [PDFANNOTS / "hotos17.pdf"]:
        try:
            read_pdf(pdf)
        except UserError:
            continue  # encrypted or unreadable: one line and exit 2, tested with the PDF reader
        except Exception:  # noqa: BLE001 - a reader crash is the PDF reader's bug, tested there
            continue
        readable.append(pdf)
    assert len(readable) >= 25
    written = _import(vault, readable)
    assert len(written) == len(readable)
    lines = {line for note in written for line in note.read_text(encoding="utf-8").splitlines()}
    # Each highlight reads in the notes as it reads in the PDF, also where two PDFs are annotated
    # copies of one document (one /ID[0]): each has its own note.
    for paper in map(read_pdf, readable):
        for annotation in paper.annotations:
            if annotation.text.strip() and annotation.kind not in ("image", "ink"):
                line = "> " + inline(annotation.text)
                assert line in lines, (paper.pdf_path.name, line)
                assert rendered_text(f"[!quote] p. 1\n{inline(annotation.text)}")[0].partition("\n")[2] == \
                    " ".join(annotation.text.split())
    for path in vault.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        assert note_problems(vault, path, to_write=_concepts(text)) == [], path
        assert str(REALWORLD.parent) not in text and str(tmp_path) not in text  # nothing points at this machine
    for pdf in readable:  # each PDF is in the vault, the same bytes, read in place from the corpus
        assert (vault / "attachments" / pdf.name).read_bytes() == pdf.read_bytes()


@needs_corpus("realworld", "pdfannots")
def test_a_paper_no_registry_knows_gets_the_general_checklist_and_its_authors(tmp_path):
    [note] = _import(tmp_path / "vault", [PDFANNOTS / "hotos17.pdf"])
    text = note.read_text(encoding="utf-8")
    props = _properties(note)
    assert props["tags"] == ["paper"] and props["authors"] == ["Andrew Baumann"]  # from the first page
    assert "### ⚪ 通用 (General)" in text
    for vit in ("Patch Size", "CLS", "JFT-300M", "CV/classification", "## Eq.", "python run"):
        assert vit not in text
    assert "[[This is lower in column 1]]" not in text  # a comment is never a concept
    assert re.search(r"\[\[attachments/hotos17\.pdf#page=\d+\|p\. \d+\]\]", text)


def _pdf(write_pdf, name: str, text: str = "A finding") -> Path:
    """A one-page paper with `text` highlighted green, at tmp_path / `name`."""
    return write_pdf([["A Paper About Things", text]], [(text, (0.37, 0.7, 0.21))], name=name, step=60)


def test_copy_is_the_default_and_a_name_taken_by_another_pdf_gets_its_digest(tmp_path, write_pdf):
    first, second = _pdf(write_pdf, "a/paper.pdf"), _pdf(write_pdf, "b/paper.pdf", "Another finding")
    vault = tmp_path / "vault"
    [one] = _import(vault, [first])
    [two] = _import(vault, [second])
    copies = {p.name for p in (vault / "attachments").glob("paper*.pdf")}
    [other] = copies - {"paper.pdf"}
    assert "paper.pdf" in copies and re.fullmatch(r"paper-[0-9a-f]{8}\.pdf", other)
    assert f"[[attachments/{other}#page=1|p. 1]]" in two.read_text(encoding="utf-8")
    assert (vault / "attachments" / other).read_bytes() == second.read_bytes()
    assert os.stat(vault / "attachments" / "paper.pdf").st_ino != os.stat(first).st_ino
    _import(vault, [first, second])  # again: no third copy
    assert len(list((vault / "attachments").glob("paper*.pdf"))) == 2
    for note in (one, two):
        assert note_problems(vault, note) == []


def test_link_mode_hard_links_the_pdf(tmp_path, write_pdf):
    pdf = _pdf(write_pdf, "paper.pdf")
    vault = tmp_path / "vault"
    _import(vault, [pdf], 'pdf_attach = "link"\n')
    assert os.stat(vault / "attachments" / "paper.pdf").st_ino == os.stat(pdf).st_ino


def test_zotero_mode_leaves_a_zotero_items_pdf_in_zotero(tmp_path, write_pdf):
    pdf = _pdf(write_pdf, "storage/ABCD1234/paper.pdf")
    vault = tmp_path / "vault"
    (vault).mkdir()
    (vault / "studykit.toml").write_text('pdf_attach = "zotero"\n', encoding="utf-8")
    ws = notes.open_workspace(vault)
    link = "zotero://open-pdf/library/items/ABCD1234?page=1&annotation=K1"
    paper = Paper(id="zotero:u:P1", title="T", pdf_path=pdf, zotero_link="zotero://select/library/items/P1",
                  annotations=[Annotation(id="K1", kind="highlight", page=1, text="t", category=Category.RESULT,
                                          link=link)])
    [(_, result)] = notes.write_papers(ws, [paper])
    text = result.path.read_text(encoding="utf-8")
    assert f"[p. 1]({link})" in text and "source:" not in text
    assert not list(vault.rglob("*.pdf")) and note_problems(vault, result.path) == []


def test_dry_run_brings_no_pdf_in(tmp_path, write_pdf):
    pdf = _pdf(write_pdf, "paper.pdf")
    ws = notes.open_workspace(tmp_path / "vault")
    notes.write_papers(ws, [read_pdf(pdf)], dry_run=True)
    assert not list((tmp_path / "vault").rglob("*.pdf"))


def test_a_full_note_embeds_every_equation_diagram_and_all_resolve(tmp_path):
    from studykit import demo_pdf

    pdf = tmp_path / "vit-sample.pdf"
    demo_pdf.write_pdf(pdf)
    vault = tmp_path / "vault"
    [note] = _import(vault, [pdf], 'note_detail = "full"\n')
    text = note.read_text(encoding="utf-8")
    assert text.count("```mermaid") == 5 and all(f"-eq{n}-shapes.png]]" in text for n in range(1, 5))
    assert note_problems(vault, note, to_write=_concepts(text)) == []

