"""The paper note's context and template: sections by colour, escaping, odd metadata, template errors and overrides."""

from __future__ import annotations

import re
from datetime import date

import pytest
import yaml

from studykit.errors import UserError
from studykit.model import Annotation, Category, Paper
from studykit.note import Assets, block_id, build_context, legend_context
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
    assert fm["title"] == "Untitled" and fm["authors"] == [] and "paper" in fm["tags"]
    for heading in ("## 1. 快速预览", "## 2. 核心架构", "## 3. 深度技术检查清单", "## 4. 数学表达",
                    "## 5. 基础补课", "## 6. 关联阅读"):
        assert heading in text
    assert "Inductive Bias (归纳偏置)" in text  # the classification checklist by default


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


def test_direction_from_config_picks_its_checklist():
    class Config:
        direction = "vla"
        templates_dir = None

    text = render("paper_note.md.j2", build_context(Paper(id="p"), taxonomy=TAXONOMY, config=Config(),
                                                     created=date(2026, 1, 1)))
    assert "Vision-Language-Action" in text and "- [ ] **动作表示 (Actions):**" in text
    Config.direction = "astrology"
    with pytest.raises(UserError, match="unknown direction 'astrology'"):
        build_context(Paper(id="p"), taxonomy=TAXONOMY, config=Config(), created=date(2026, 1, 1))


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

    class Config:
        templates_dir = tmp_path / "tpl"

    assert render("legend.md.j2", {}, vault=tmp_path, config=Config()) == "from config\n"
