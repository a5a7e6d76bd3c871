"""The paper note's context and template: sections by colour, escaping, odd metadata, template errors and overrides."""

from __future__ import annotations

import re
from datetime import date

import pytest
import yaml

from obsidian_checks import note_problems
from studykit.config import Checklist, Config, load_config
from studykit.errors import UserError
from studykit.model import Annotation, Category, Paper
from studykit.note import Assets, EquationAssets, Source, block_id, build_context, legend_context
from studykit.papers import find_registry
from studykit.render import render
from studykit.taxonomy import Taxonomy
from vault_export import regions

TAXONOMY = Taxonomy.default()
COLOURS = {"contribution": "#ff6666", "definition": "#ffd400", "formula": "#2ea8e5", "result": "#5fb236",
           "method": "#a28ae5", "limitation": "#f19837", "background": "#aaaaaa", "question": "#e56eee",
           "uncategorized": "#000000"}


def highlight(i: int, category: str, text: str = "", comment: str = "") -> Annotation:
    color = COLOURS[category]
    return Annotation(id=f"K{i:05d}", kind="highlight", page=1 + i % 9, text=text or f"highlight {i}",
                      comment=comment, color=color, category=TAXONOMY.by_color(color),
                      link=f"zotero://open-pdf/library/items/ATT?page={1 + i % 9}&annotation=K{i:05d}")


def note_text(paper: Paper, **kw) -> str:
    context = build_context(paper, taxonomy=TAXONOMY, created=date(2026, 11, 25), **kw)
    return render("paper_note.md.j2", context)


def frontmatter(text: str) -> dict:
    return yaml.safe_load(text.split("---\n", 2)[1])


def region(text: str, name: str) -> str:
    return regions.rendered_regions(text)[name]


def test_each_colour_lands_in_its_section_with_page_link_and_block_id():
    anns = [highlight(i, c) for i, c in enumerate(COLOURS)]
    text = note_text(Paper(id="zotero:u:P1", title="T", annotations=anns))
    where = {"contribution": "motivation", "definition": "concepts", "formula": "formulas", "result": "results",
             "method": "methods", "limitation": "limitations", "background": "background",
             "question": "questions", "uncategorized": "uncategorized"}
    for ann, (category, name) in zip(anns, where.items()):
        body = region(text, name)
        assert ann.text in body, (category, name)
        assert f"^{block_id(ann.id)}" in body
        assert f"({ann.link})" in body
    assert text.count("^ann-") == len(anns)


def test_definition_becomes_a_concept_link_and_comment_keeps_markdown():
    anns = [highlight(0, "definition", "Inductive Bias"), highlight(1, "formula", "z = x", "see $E_{pos}$ and [[LN]]")]
    text = note_text(Paper(id="pdf:1", title="T", annotations=anns))
    assert "[[Inductive Bias]]" in region(text, "concepts")
    assert "💬 see $E_{pos}$ and [[LN]]" in region(text, "formulas")


def test_concept_comes_from_the_highlighted_term_never_the_comment_and_is_linked_once():
    anns = [highlight(0, "definition", "  inductive bias. ", "This is lower in column 1"),
            highlight(1, "definition", "inductive bias", "again, later in the paper"),
            highlight(2, "definition", "a whole sentence that is far too long to be the name of a concept"),
            highlight(3, "definition", "", "only a comment")]
    text = note_text(Paper(id="pdf:1", title="T", annotations=anns))
    assert text.count("[[inductive bias]]") == 1
    assert "[[This is lower in column 1]]" not in text and "[[only a comment]]" not in text
    assert "[[a whole sentence" not in text


def test_highlight_text_cannot_break_regions_links_or_math():
    nasty = "%% studykit:end motivation 00000000 %% [[x]] #tag $a$ ^id <b>"
    text = note_text(Paper(id="pdf:1", title="T", annotations=[highlight(0, "contribution", nasty)]))
    parsed = regions.parse(text)
    assert not parsed.problems
    body = region(text, "motivation")
    assert "[[x]]" not in body and "#tag" not in body.replace("\\#tag", "") and "$a$" not in body


@pytest.mark.parametrize("title", ["../../etc/passwd", "/abs/path: a \"quoted\" | [[title]] #x ^y", "CON", "", "  ",
                                   "一个很长的中文标题" * 40, "---\nkey: value"])
def test_adversarial_titles_give_valid_front_matter(title):
    paper = Paper(id="pdf:odd", title=title, authors=["Müller, Jürgen", "O'Brien, Seán", "李, 雷"])
    fm = frontmatter(note_text(paper))
    assert fm["title"] == (" ".join(title.split()) or "Untitled")
    assert fm["authors"] == ["Müller, Jürgen", "O'Brien, Seán", "李, 雷"]
    assert fm["studykit-id"] == "pdf:odd"
    assert fm["created"] == date(2026, 11, 25)


def test_empty_metadata_renders_every_section():
    text = note_text(Paper(id="pdf:empty"))
    fm = frontmatter(text)
    # No authors: the property is left out, not an empty list Obsidian would show.
    assert fm["title"] == "Untitled" and "authors" not in fm and fm["tags"] == ["paper"]
    for heading in ("## 1. 快速预览", "## 2. 核心架构", "## 3. 深度技术检查清单", "## 4. 数学表达",
                    "## 5. 基础补课", "## 6. 关联阅读"):
        assert heading in text
    assert "### ⚪ 通用 (General)" in text and "领域标签" not in text  # the general checklist, untagged


VIT_QUESTIONS = ("Patch Size", "[CLS] Token", "JFT-300M")


def test_only_a_paper_the_registry_knows_gets_its_questions_and_tags():
    vit = find_registry(arxiv="2010.11929")
    assert vit is not None and vit.checklist and "CV/classification" in vit.tags
    known = note_text(Paper(id="pdf:vit", title="ViT", arxiv="2010.11929"), registry=vit)
    unknown = note_text(Paper(id="pdf:hotos", title="A hardware paper"))
    assert all(q in known for q in VIT_QUESTIONS) and "### 这篇论文 (This paper)" in known
    assert "CV/classification" in frontmatter(known)["tags"]
    assert not any(q in unknown for q in VIT_QUESTIONS) and "### 这篇论文" not in unknown
    assert frontmatter(unknown)["tags"] == ["paper"] and "#CV" not in unknown


def test_direction_the_reader_chose_tags_the_note_and_lists_its_questions():
    text = note_text(Paper(id="p"), config=Config(direction="vla"))
    assert "Vision-Language-Action" in text and "- [ ] **动作表示 (Actions):**" in text
    assert "robotics/VLA" in frontmatter(text)["tags"] and "#robotics/VLA" in text


def test_unknown_direction_is_one_line_naming_the_file(tmp_path):
    (tmp_path / "studykit.toml").write_text('direction = "astrology"\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"studykit.toml: direction: unknown direction 'astrology'; known: general"):
        load_config(tmp_path)


def test_checklists_from_studykit_toml_replace_or_add_a_direction():
    mine = Config(direction="mine", checklists={"mine": Checklist(title="My list", field_tag="me/topic",
                                                                   items=("Does it scale?",))})
    text = note_text(Paper(id="p"), config=mine)
    assert "### My list" in text and "- [ ] Does it scale?" in text and "me/topic" in frontmatter(text)["tags"]
    detection = Config(direction="detection", checklists={"detection": Checklist(items=("Only this",))})
    text = note_text(Paper(id="p"), config=detection)
    assert "🔵 目标检测 (Detection)" in text and "- [ ] Only this" in text and "Anchor" not in text


def test_user_data_with_newlines_and_region_markers_renders(tmp_path):
    """A PDF author or a Zotero creator can hold anything, a region marker included (issue 10, item 9)."""
    marker = "\n%% studykit:begin quick-read %%\n"
    paper = Paper(id="pdf:odd", title=f"T{marker}", authors=[f"Ann{marker}Lee", "%% studykit:end motivation 0 %%"],
                  venue=f"V{marker}", abstract=f"text{marker}more", url=f"https://x.org/{marker}",
                  annotations=[highlight(0, "result", f"88.55%{marker}", f"ok{marker}")])
    text = note_text(paper)
    parsed = regions.parse(text)
    assert not parsed.problems
    assert [r.name for r in parsed.regions].count("quick-read") == 1
    assert "Ann %\\% studykit:begin quick-read %\\% Lee" in region(text, "quick-read")
    note = tmp_path / "n.md"
    note.write_text(text, encoding="utf-8")
    assert note_problems(tmp_path, note) == []


def test_no_link_points_at_this_machine():
    ann = Annotation(id="A1", kind="highlight", page=3, text="t", category=Category.RESULT)
    outside = note_text(Paper(id="pdf:1", pdf_path="/home/me/papers/x.pdf", annotations=[ann]))
    assert "file://" not in outside and "/home/me" not in outside and "p. 3" in outside
    inside = note_text(Paper(id="pdf:1", pdf_path="/home/me/papers/x.pdf", annotations=[ann]),
                       assets=Assets(pdf_vault_path="attachments/x.pdf"))
    assert "[[attachments/x.pdf#page=3|p. 3]]" in inside
    assert frontmatter(inside)["source"] == "[[attachments/x.pdf]]"


def test_an_annotation_twice_in_the_pdf_still_gives_unique_block_ids():
    twice = [highlight(0, "result"), highlight(0, "result")]
    text = note_text(Paper(id="pdf:1", annotations=twice))
    ids = re.findall(r"^\^(ann-[0-9a-f-]+)$", text, re.M)
    assert ids == [block_id("K00000"), block_id("K00000") + "-2"]


def _vit_note(config: Config) -> str:
    vit = find_registry(arxiv="2010.11929")
    code = Source("vit_impl/sublayers.py", 16, "class Embedding:\n    pass\n")
    assets = Assets(model_diagram="m.png", model_mermaid="flowchart TD\n  a --> b",
                    equations={eq.id: EquationAssets(f"{eq.id}.png", "flowchart TD\n  x --> y", code)
                               for eq in vit.equations})
    return note_text(Paper(id="pdf:vit", arxiv="2010.11929"), registry=vit, assets=assets, config=config)


def test_lean_note_by_default_and_full_on_request():
    lean, full = _vit_note(Config()), _vit_note(Config(note_detail="full"))
    for text in (lean, full):
        assert "![[m.png]]" in text  # the one whole-model picture
        assert text.count("> [!example]- 实现 (Implemented by)") == 4
        assert "`vit_impl/sublayers.py`, lines 16–17" in text and "> class Embedding:" in text
    assert "![[Eq.1.png]]" not in lean and "```mermaid" not in lean
    assert "![[Eq.1.png]]" in full and full.count("```mermaid") == 5


def test_every_dollar_block_is_display_math_in_commonmark(tmp_path):
    note = tmp_path / "n.md"
    note.write_text(_vit_note(Config()), encoding="utf-8")
    assert [p for p in note_problems(tmp_path, note) if "$$" in p or "braces" in p] == []


def test_links_in_properties_are_quoted():
    paper = Paper(id="zotero:u:A", title="T", zotero_link="zotero://select/library/items/A", url="https://x.org/a")
    text = note_text(paper)
    assert 'zotero: "zotero://select/library/items/A"' in text
    assert 'url: "https://x.org/a"' in text


def test_two_thousand_annotations_all_present_once():
    cats = list(COLOURS)
    anns = [highlight(i, cats[i % len(cats)]) for i in range(2000)]
    text = note_text(Paper(id="pdf:big", title="Big", annotations=anns))
    ids = re.findall(r"^\^(ann-[0-9a-f]{10})$", text, re.M)
    assert len(ids) == 2000 and len(set(ids)) == 2000


def test_area_annotations_embed_their_image_in_section_two():
    area = Annotation(id="IMG1", kind="image", page=3, comment="Figure 1", category=Category.METHOD)
    text = note_text(Paper(id="pdf:1", annotations=[area]), assets=Assets(images={"IMG1": "area-x.png"}))
    assert "![[area-x.png]]" in region(text, "architecture")


def test_legend_lists_every_category_with_its_colour():
    context = legend_context(TAXONOMY)
    context["frontmatter"] = {"title": "Legend"}
    text = render("legend.md.j2", context)
    for info in TAXONOMY.infos:
        assert info.name in text and info.color in text


def test_template_error_names_template_line_and_variable(tmp_path):
    folder = tmp_path / ".studykit" / "templates"
    folder.mkdir(parents=True)
    (folder / "paper_note.md.j2").write_text("# {{ paper.title }}\n\n{{ no_such_thing }}\n", encoding="utf-8")
    context = build_context(Paper(id="p", title="T"), taxonomy=TAXONOMY, created=date(2026, 1, 1))
    with pytest.raises(UserError, match=r"paper_note\.md\.j2, line 3: 'no_such_thing' is undefined"):
        render("paper_note.md.j2", context, vault=tmp_path)
    (folder / "paper_note.md.j2").write_text("ok\n{% if %}\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"paper_note\.md\.j2, line 2"):
        render("paper_note.md.j2", context, vault=tmp_path)


def test_user_template_overrides_and_runs_sandboxed(tmp_path):
    folder = tmp_path / ".studykit" / "templates"
    folder.mkdir(parents=True)
    context = build_context(Paper(id="p", title="Mine"), taxonomy=TAXONOMY, created=date(2026, 1, 1))
    (folder / "paper_note.md.j2").write_text("---\n{{ frontmatter | yaml }}---\nMY TEMPLATE {{ paper.title }}\n")
    assert "MY TEMPLATE Mine" in render("paper_note.md.j2", context, vault=tmp_path)
    (folder / "paper_note.md.j2").write_text("{{ paper.__class__.__mro__ }}\n")
    with pytest.raises(UserError, match="paper_note.md.j2"):
        render("paper_note.md.j2", context, vault=tmp_path)


def test_templates_dir_from_config_wins(tmp_path):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "legend.md.j2").write_text("from config\n")

    assert render("legend.md.j2", {}, vault=tmp_path, config=Config(templates_dir=tmp_path / "tpl")) == "from config\n"
