"""The colour code: reader palettes exactly, near colours by CIELAB distance, the rest by OKLCH hue;
tag and prefix overrides; the vault's palette; the classification stage."""

from __future__ import annotations

import pytest

from studykit.config import Config
from studykit.model import Annotation, Paper
from studykit.model import Category as C
from studykit.palettes import PALETTES
from studykit.taxonomy import (
    DEFAULT_THRESHOLD, HUE_BANDS, MAX_DARK_PURPLE_LIGHTNESS, MAX_GREY_LIGHTNESS, MIN_CHROMA, MIN_LIGHTNESS, Taxonomy,
    MAGENTA, by_hue, classify, delta_e, hex_to_lab, hex_to_oklch, normalize_hex,
)

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

# Colours a person names at a glance, with the category of that name in the reader's code: red
# contribution, yellow definition, blue formula, green result, purple method, orange limitation,
# grey background, cyan/magenta question. None of them is in a reader palette.
NAMED_COLOURS = {
    # red, crimson, a pen's red, the reds the issue found uncategorized
    "#ff0000": C.CONTRIBUTION, "#ec2814": C.CONTRIBUTION, "#be0a10": C.CONTRIBUTION, "#dc143c": C.CONTRIBUTION,
    "#b22222": C.CONTRIBUTION, "#e22d38": C.CONTRIBUTION, "#ff4d4d": C.CONTRIBUTION, "#a52a2a": C.CONTRIBUTION,
    "#c71585": C.CONTRIBUTION,  # medium violet red
    # blue, navy, royal, sky
    "#0000ff": C.FORMULA, "#1373e8": C.FORMULA, "#1273e8": C.FORMULA, "#000080": C.FORMULA, "#4169e1": C.FORMULA,
    "#87ceeb": C.FORMULA, "#1e90ff": C.FORMULA, "#4261ee": C.FORMULA, "#add8e6": C.FORMULA,
    # green, lime, forest, light green
    "#00ff00": C.RESULT, "#7df066": C.RESULT, "#6deb6d": C.RESULT, "#228b22": C.RESULT, "#32cd32": C.RESULT,
    "#90ee90": C.RESULT, "#adff2f": C.RESULT, "#008000": C.RESULT, "#e4ffd9": C.RESULT,
    # yellow, gold, khaki, pale yellows a highlighter leaves
    "#ffd700": C.DEFINITION, "#f0e68c": C.DEFINITION, "#ffeb3b": C.DEFINITION, "#ffffe0": C.DEFINITION,
    "#fff176": C.DEFINITION, "#ffea00": C.DEFINITION,
    # orange, dark orange, brown
    "#ffa500": C.LIMITATION, "#ff8c00": C.LIMITATION, "#ff5800": C.LIMITATION, "#d2691e": C.LIMITATION,
    "#8b4513": C.LIMITATION, "#804000": C.LIMITATION, "#ff6200": C.LIMITATION,
    # purple, violet, indigo, CSS purple (magenta's hue, but dark)
    "#9643fc": C.METHOD, "#8a2be2": C.METHOD, "#673ab7": C.METHOD, "#4b0082": C.METHOD, "#800080": C.METHOD,
    "#9c27b0": C.METHOD, "#7b7bc0": C.METHOD,
    # cyan, turquoise, teal; magenta, fuchsia, orchid
    "#00ffff": C.QUESTION, "#40e0d0": C.QUESTION, "#008080": C.QUESTION, "#00ced1": C.QUESTION,
    "#ff00ff": C.QUESTION, "#ee82ee": C.QUESTION, "#da70d6": C.QUESTION,
    # greys a person calls grey
    "#808080": C.BACKGROUND, "#c0c0c0": C.BACKGROUND, "#d3d3d3": C.BACKGROUND, "#696969": C.BACKGROUND,
    "#555555": C.BACKGROUND, "#2f4f4f": C.BACKGROUND, "#778899": C.BACKGROUND,
    # no hue to name: black, white, near-black, near-white, very dark
    "#000000": C.UNCATEGORIZED, "#ffffff": C.UNCATEGORIZED, "#0a0a0a": C.UNCATEGORIZED,
    "#1a1a1a": C.UNCATEGORIZED, "#fafafa": C.UNCATEGORIZED, "#f5f5f5": C.UNCATEGORIZED, "#330000": C.UNCATEGORIZED,
    "#000033": C.UNCATEGORIZED, "#fefefe": C.UNCATEGORIZED,
}


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


@pytest.mark.parametrize("color, category", NAMED_COLOURS.items())
def test_named_colours_go_where_their_name_says(color, category):
    assert Taxonomy.default().categorize(color) == category


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
    assert taxonomy.categorize("#0000ff") == C.QUESTION  # the vault's colour wins over its hue (blue)
    assert taxonomy.info(C.QUESTION).colors == ("#0000ff",)  # replaced, not added, in the legend
    assert delta_e("#0505ff", "#0000ff") < 5 < delta_e("#3030ff", "#0000ff")
    assert taxonomy.categorize("#0505ff") == C.QUESTION  # within the vault's threshold of its colour
    assert taxonomy.categorize("#3030ff") == C.FORMULA  # beyond it: judged by hue
    assert taxonomy.info(C.QUESTION).name == "Fragen"
    assert taxonomy.categorize(None, comment="#Fragen warum?") == C.QUESTION
    assert Taxonomy.from_config(Config()).threshold == Taxonomy.default().threshold == DEFAULT_THRESHOLD == 22.0


def test_the_vaults_palette_wins_over_a_reader_palette():
    taxonomy = Taxonomy.from_config(Config(taxonomy_colors={"result": ["#ffff00"]}))
    assert Taxonomy.default().categorize("#ffff00") == C.DEFINITION  # Acrobat's yellow
    assert taxonomy.categorize("#ffff00") == C.RESULT


# ---------------------------------------------------------------- reader palettes


@pytest.mark.parametrize("entry", PALETTES, ids=lambda e: f"{e.reader}-{e.name}")
def test_reader_palettes_land_exactly(entry):
    assert entry.hex == normalize_hex(entry.hex)
    assert entry.source  # where the figure comes from
    assert Taxonomy.default().categorize(entry.hex) == entry.category


def test_palette_table_holds_each_colour_once():
    hexes = [e.hex for e in PALETTES]
    assert len(hexes) == len(set(hexes))
    assert {e.reader for e in PALETTES} >= {"Zotero 7", "pdf.js / Firefox"}


def test_a_palette_colour_wins_over_its_hue():
    # pdf.js calls #80ebff "blue" though its hue is cyan's; the palette says what its reader meant.
    assert by_hue(*hex_to_oklch("#80ebff")) == C.QUESTION
    assert Taxonomy.default().categorize("#80ebff") == C.FORMULA


# ---------------------------------------------------------------- conversions, pinned near black


@pytest.mark.parametrize("color, lightness", [
    ("#010101", 0.27417), ("#0a0a0a", 2.74175),  # the linear segment of sRGB and of CIELAB's f
    ("#0b0b0b", 3.02291), ("#121212", 5.46389),  # the power segment of sRGB, still CIELAB's linear f
    ("#161616", 7.24732),  # Y = 0.008023, just below (6/29)^3 = 0.008856: still L* = (24389/27) Y, not the cube root
    ("#1a1a1a", 9.26323),  # Y above (6/29)^3: CIELAB's cube root
])
def test_lab_lightness_near_black(color, lightness):
    assert hex_to_lab(color) == pytest.approx((lightness, 0, 0), abs=2e-4)


def test_lab_near_black_colours_keep_their_hue():
    # Worked by hand: r = 1/255/12.92; X, Y, Z from the sRGB matrix; f(t) = t / (3 (6/29)^2) + 4/29.
    assert hex_to_lab("#010000") == pytest.approx((0.05831, 0.26151, 0.09214), abs=2e-4)
    assert hex_to_lab("#000001")[2] < 0 and hex_to_lab("#000100")[1] < 0  # blue: b* < 0; green: a* < 0


@pytest.mark.parametrize("color, oklch", [
    ("#ff0000", (0.62796, 0.25768, 29.234)), ("#00ff00", (0.86644, 0.29483, 142.495)),
    ("#0000ff", (0.45201, 0.31321, 264.052)), ("#ffffff", (1.0, 0.0, None)),
    ("#010101", (0.06722, 0.0, None)), ("#0a0a0a", (0.14479, 0.0, None)), ("#808080", (0.59987, 0.0, None)),
])
def test_oklch_against_known_values(color, oklch):
    lightness, chroma, hue = hex_to_oklch(color)
    assert (lightness, chroma) == pytest.approx(oklch[:2], abs=2e-4)
    if oklch[2] is not None:
        assert hue == pytest.approx(oklch[2], abs=0.01)


# ---------------------------------------------------------------- the hue rule's boundaries, pinned


def test_hue_bands_go_round_the_circle_in_order():
    starts = [start for start, _ in HUE_BANDS]
    assert starts == sorted(starts) and 0 < starts[0] and starts[-1] < 360
    assert [(s, c) for s, c in HUE_BANDS] == [
        (36.0, C.LIMITATION), (75.0, C.DEFINITION), (120.0, C.RESULT), (170.0, C.QUESTION), (215.0, C.FORMULA),
        (280.0, C.METHOD), (320.0, C.QUESTION), (345.0, C.CONTRIBUTION),
    ]


@pytest.mark.parametrize("index", range(len(HUE_BANDS)))
def test_each_hue_boundary_sits_where_it_says(index):
    start, category = HUE_BANDS[index]
    before = HUE_BANDS[index - 1][1]
    assert by_hue(0.7, 0.15, start - 0.01) == before
    assert by_hue(0.7, 0.15, start) == category
    assert by_hue(0.7, 0.15, start + 0.01) == category


def test_hue_wraps_round_zero():
    assert by_hue(0.7, 0.15, 0.0) == by_hue(0.7, 0.15, 359.99) == by_hue(0.7, 0.15, 35.99) == C.CONTRIBUTION


def test_lightness_and_chroma_thresholds():
    assert (MIN_LIGHTNESS, MIN_CHROMA, MAX_GREY_LIGHTNESS, MAX_DARK_PURPLE_LIGHTNESS) == (0.25, 0.04, 0.92, 0.6)
    assert by_hue(0.2499, 0.2, 29) == C.UNCATEGORIZED  # too dark to name, however red
    assert by_hue(0.25, 0.2, 29) == C.CONTRIBUTION
    assert by_hue(0.7, 0.0399, 29) == C.BACKGROUND  # a grey with a tinge
    assert by_hue(0.7, 0.04, 29) == C.CONTRIBUTION
    assert by_hue(0.92, 0.0, 0) == C.BACKGROUND  # light grey
    assert by_hue(0.9201, 0.0, 0) == C.UNCATEGORIZED  # white
    assert by_hue(0.95, 0.05, 100) == C.DEFINITION  # a pale colour with a hue is named
    assert by_hue(0.5999, 0.2, 330) == C.METHOD  # dark magenta is purple
    assert by_hue(0.5, 0.2, MAGENTA) == C.METHOD and by_hue(0.6, 0.2, MAGENTA) == C.QUESTION  # from where magenta begins
    assert by_hue(0.6, 0.2, 330) == C.QUESTION
    assert by_hue(0.5, 0.2, 269.99) == C.FORMULA  # the dark-purple rule stays out of blue
    assert by_hue(0.4, 0.1, 214.99) == C.QUESTION  # and out of dark cyan
    assert by_hue(0.5, 0.2, 10) == C.CONTRIBUTION  # and out of red


def test_threshold_decides_between_a_known_colour_and_the_hue():
    # A vault that files its grey as a question: greys within the threshold of it are questions,
    # those beyond are background. Greys differ only in L*, so the distance is exact.
    taxonomy = Taxonomy.from_config(Config(taxonomy_colors={"question": ["#777777"]}))
    near, far = "#434343", "#414141"  # L* 28.4 and 27.5 against 50.0: 21.6 and 22.5 away
    assert delta_e(near, "#777777") < DEFAULT_THRESHOLD < delta_e(far, "#777777")
    assert delta_e(far, "#aaaaaa") > DEFAULT_THRESHOLD  # the Zotero grey is not what decides here
    assert taxonomy.categorize(near) == C.QUESTION
    assert taxonomy.categorize(far) == C.BACKGROUND
    exactly = Taxonomy.from_config(Config(taxonomy_colors={"question": ["#777777"]},
                                          taxonomy_threshold=delta_e(near, "#777777")))
    assert exactly.categorize(near) == C.QUESTION  # the threshold itself is inside


# ---------------------------------------------------------------- the classification stage


def test_classify_files_every_annotation_and_strips_prefixes_without_touching_the_source():
    anns = [
        Annotation(id="a", kind="highlight", page=1, color="#ffd400", comment="#question why 16x16?"),
        Annotation(id="b", kind="highlight", page=1, color="#ffd400", comment="#疑问 为什么"),
        Annotation(id="c", kind="highlight", page=1, color="#ffd400", comment="#公式"),
        Annotation(id="d", kind="highlight", page=1, color="#ffd400", comment="#red key"),
        Annotation(id="e", kind="highlight", page=1, color="#ffd400", comment="", tags=["Result"]),
        Annotation(id="f", kind="highlight", page=1, color="#ff0000", comment="see #question"),
    ]
    paper = Paper(id="p", annotations=anns)
    out = classify(paper, Taxonomy.default())
    assert [(a.category, a.comment) for a in out.annotations] == [
        (C.QUESTION, "why 16x16?"), (C.QUESTION, "为什么"), (C.FORMULA, ""), (C.CONTRIBUTION, "key"),
        (C.RESULT, ""), (C.CONTRIBUTION, "see #question"),
    ]
    assert out.annotations[4].tags == ["Result"]  # tags stay as the source said them
    assert [a.comment for a in paper.annotations][0] == "#question why 16x16?"  # the source's paper is unchanged
    assert all(a.category == C.UNCATEGORIZED for a in paper.annotations)


def test_short_hex_colours_and_what_a_bad_one_says():
    assert normalize_hex("#fd0") == "#ffdd00" and normalize_hex(" F0A ") == "#ff00aa" and normalize_hex("FFD400") == "#ffd400"
    # the message reaches the reader as is, through the vault config's error (config._colors)
    with pytest.raises(ValueError, match=r"^not a hex colour: 'blau'$"):
        normalize_hex("blau")
    assert Taxonomy.default().categorize("#f00") == Taxonomy.default().categorize("#ff0000") == C.CONTRIBUTION


def test_a_word_names_a_category_only_whole():
    taxonomy = Taxonomy.default()
    assert taxonomy.by_word("#Result") == taxonomy.by_word(" result ") == C.RESULT
    assert taxonomy.by_word("XResult") is None and taxonomy.by_word("X#result") is None
