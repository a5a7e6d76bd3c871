"""The colour code: CIELAB nearest category within a threshold, tag and prefix overrides, config."""

from __future__ import annotations

import pytest

from studykit.config import Config
from studykit.model import Category as C
from studykit.taxonomy import Taxonomy, delta_e, hex_to_lab, normalize_hex

ZOTERO_7 = {
    "#ff6666": C.CONTRIBUTION, "#ffd400": C.DEFINITION, "#2ea8e5": C.FORMULA, "#5fb236": C.RESULT,
    "#a28ae5": C.METHOD, "#f19837": C.LIMITATION, "#aaaaaa": C.BACKGROUND, "#e56eee": C.QUESTION,
}

# Colours other readers write, with the category a reader of this code means by them.
READER_COLOURS = {
    "#ffff00": C.DEFINITION,  # Acrobat highlight yellow
    "#facd5a": C.DEFINITION,  # Preview yellow
    "#fdfdae": C.DEFINITION,  # Skim light yellow
    "#ffeb3b": C.DEFINITION,  # PDF Expert yellow
    "#f86464": C.CONTRIBUTION,  # Acrobat red marker
    "#e52237": C.CONTRIBUTION,  # Acrobat crimson
    "#f44336": C.CONTRIBUTION,  # PDF Expert red
    "#fb5c89": C.CONTRIBUTION,  # Preview pink (its red)
    "#7cc868": C.RESULT,  # Preview green
    "#8bc34a": C.RESULT,  # PDF Expert green
    "#69b0f1": C.FORMULA,  # Preview blue
    "#03a9f4": C.FORMULA,  # PDF Expert blue
    "#c885da": C.METHOD,  # Preview purple
    "#ff7800": C.LIMITATION,  # Acrobat orange
    "#ffa500": C.LIMITATION,  # orange
    "#808080": C.BACKGROUND, "#c0c0c0": C.BACKGROUND,
    "#00ffff": C.QUESTION, "#40e0d0": C.QUESTION,  # cyan, turquoise
}

# Tool defaults and hues between categories: filing them anywhere would be a guess.
FAR_COLOURS = ["#0000ff", "#000000", "#ffffff", "#ff0000", "#1273e8", "#9c27b0", "#ffc0cb", "#00ff00", "#804000"]


def test_lab_conversion_against_known_values():
    assert hex_to_lab("#ffffff") == pytest.approx((100, 0, 0), abs=0.01)
    assert hex_to_lab("#000000") == pytest.approx((0, 0, 0), abs=0.01)
    assert hex_to_lab("#ff0000") == pytest.approx((53.24, 80.09, 67.20), abs=0.05)
    assert hex_to_lab("#808080") == pytest.approx((53.59, 0, 0), abs=0.05)
    assert delta_e("#ff0000", "#ff0000") == 0


@pytest.mark.parametrize("color, category", ZOTERO_7.items())
def test_zotero_colours_land_exactly(color, category):
    taxonomy = Taxonomy.default()
    assert taxonomy.categorize(color) == category
    assert taxonomy.categorize(color.upper()) == category
    assert delta_e(color, taxonomy.info(category).color) == 0


@pytest.mark.parametrize("color, category", READER_COLOURS.items())
def test_common_reader_colours_are_not_misfiled(color, category):
    assert Taxonomy.default().categorize(color) == category


@pytest.mark.parametrize("color", FAR_COLOURS)
def test_far_colours_are_uncategorized(color):
    assert Taxonomy.default().categorize(color) == C.UNCATEGORIZED


def test_no_colour_or_garbage_is_uncategorized():
    taxonomy = Taxonomy.default()
    assert taxonomy.categorize(None) == taxonomy.categorize("") == taxonomy.categorize("red") == C.UNCATEGORIZED


def test_tags_and_comment_prefixes_override_the_colour():
    taxonomy = Taxonomy.default()
    assert taxonomy.categorize("#ffd400", tags=["reading", "#question"]) == C.QUESTION
    assert taxonomy.categorize("#ffd400", tags=["Method"]) == C.METHOD
    assert taxonomy.categorize("#ffd400", comment="#question why 16x16?") == C.QUESTION
    assert taxonomy.categorize("#ffd400", comment="#疑问 为什么") == C.QUESTION
    assert taxonomy.categorize("#ffd400", comment="#公式") == C.FORMULA
    assert taxonomy.categorize("#ffd400", comment="#todo later") == C.DEFINITION  # not a category word
    assert taxonomy.categorize("#ffd400", comment="see #question") == C.DEFINITION  # only a prefix counts
    assert taxonomy.split_prefix("#question why 16x16?") == (C.QUESTION, "why 16x16?")
    assert taxonomy.split_prefix("#todo later") == (None, "#todo later")


def test_every_category_has_what_a_legend_needs():
    taxonomy = Taxonomy.default()
    assert [i.category for i in taxonomy.infos] == [c for c in C if c is not C.UNCATEGORIZED]
    for info in taxonomy.infos:
        assert info.name and info.meaning and info.when and info.color == normalize_hex(info.color)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in info.name)  # the reader's Chinese name
    assert taxonomy.info(C.CONTRIBUTION).name == "核心贡献 Contribution"
    assert "Inductive Bias" in taxonomy.info(C.DEFINITION).when


def test_from_config_uses_the_vaults_colours_names_and_threshold():
    config = Config(taxonomy_colors={"question": ["#0000ff"]}, taxonomy_names={"question": "Fragen"},
                    taxonomy_threshold=5.0)
    taxonomy = Taxonomy.from_config(config)
    assert taxonomy.categorize("#0000ff") == C.QUESTION
    assert taxonomy.categorize("#e56eee") == C.UNCATEGORIZED  # replaced, not added
    assert taxonomy.categorize("#e6c000") == C.UNCATEGORIZED  # 10 from Zotero yellow: inside 22, outside 5
    assert Taxonomy.default().categorize("#e6c000") == C.DEFINITION
    assert taxonomy.info(C.QUESTION).name == "Fragen"
    assert taxonomy.categorize(None, comment="#Fragen warum?") == C.QUESTION
    assert Taxonomy.from_config(Config()).threshold == Taxonomy.default().threshold
