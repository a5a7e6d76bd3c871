"""The reader's colour code: which category a highlight colour, tag or comment prefix means.

`classify` is the one stage that files annotations, for every source alike: sources return what
the document says, and this module decides what it means.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from studykit.model import Annotation, Category, Paper
from studykit.palettes import PALETTES

if TYPE_CHECKING:
    from studykit.config import Config

# CIE76 distance within which a colour joins its nearest known colour (the vault's own, a reader
# palette's, a category's swatch): shades of a reader colour (Acrobat's crimson is 21 from
# Zotero's red) land with it. Colours farther from all of them are judged by their hue.
DEFAULT_THRESHOLD = 22.0

# A colour whose OKLCH chroma is below this shows no hue a person would name: a grey.
MIN_CHROMA = 0.04
# Lightness below which a colour is black or too dark to name, and above which a grey is white.
MIN_LIGHTNESS = 0.25
MAX_GREY_LIGHTNESS = 0.92
# Magenta darker than this is what a person calls purple (CSS purple #800080 has magenta's hue).
MAX_DARK_PURPLE_LIGHTNESS = 0.6
MAGENTA = 320.0  # OKLCH hue where magenta begins
# OKLCH hue angle (degrees) where each hue a person names begins, going round the circle; the
# last one wraps past 360 to the first. Pure red is at 29, orange 50-70, yellow 95-110, green 142,
# cyan 195, blue 264, the Zotero purple 295, magenta 328.
HUE_BANDS: tuple[tuple[float, Category], ...] = (
    (36.0, Category.LIMITATION),  # orange, brown
    (75.0, Category.DEFINITION),  # yellow
    (120.0, Category.RESULT),  # green, from lime to mint
    (170.0, Category.QUESTION),  # cyan, turquoise
    (215.0, Category.FORMULA),  # blue, from sky to navy
    (280.0, Category.METHOD),  # purple, violet
    (MAGENTA, Category.QUESTION),  # magenta
    (345.0, Category.CONTRIBUTION),  # red, crimson, pink-red
)


@dataclass(frozen=True)
class CategoryInfo:
    """One category of the code, with what a legend note shows for it."""

    category: Category
    name: str  # display name, Chinese and English
    colors: tuple[str, ...]  # "#rrggbb" anchors; the first is the swatch shown in a legend
    meaning: str
    when: str  # when to use it
    aliases: tuple[str, ...] = ()  # words that name it in a tag or a "#word" comment prefix

    @property
    def color(self) -> str:
        return self.colors[0] if self.colors else ""


_DEFAULTS = (
    CategoryInfo(
        Category.CONTRIBUTION, "核心贡献 Contribution", ("#ff6666", "#fb5c89"),
        "核心贡献/核心结论 — core contribution, key conclusion",
        "论文解决的痛点、Abstract和Conclusion的关键句 — the pain point the paper solves, key sentences of the abstract and conclusion",
        ("contribution", "贡献", "核心贡献", "核心结论", "结论", "red", "红色", "红"),
    ),
    CategoryInfo(
        Category.DEFINITION, "重要定义 Definition", ("#ffd400", "#ffff00", "#facd5a", "#fdfdae"),
        "重要定义/概念 — a term or concept",
        "第一次出现的专业术语（如：Inductive Bias, Zero-shot） — a technical term met for the first time",
        ("definition", "定义", "重要定义", "概念", "yellow", "黄色", "黄"),
    ),
    CategoryInfo(
        Category.FORMULA, "数学公式 Formula", ("#2ea8e5", "#69b0f1"),
        "数学公式/理论依据 — formulas and theory",
        "损失函数 Loss Function、注意力机制公式 — loss functions, the attention formula",
        ("formula", "公式", "数学公式", "理论", "理论依据", "blue", "蓝色", "蓝"),
    ),
    CategoryInfo(
        Category.RESULT, "实验结果 Result", ("#5fb236", "#7cc868"),
        "实验结果/性能数据 — experimental results, performance numbers",
        "SOTA 表现、消融实验的关键数据 — SOTA results, the key numbers of ablations",
        ("result", "结果", "实验结果", "性能", "性能数据", "green", "绿色", "绿"),
    ),
    CategoryInfo(
        Category.METHOD, "借鉴方法 Method", ("#a28ae5", "#c885da"),
        "值得借鉴的代码/方法 — code or methods worth copying",
        "实现细节，如“使用了 AdamW 优化器”、“学习率衰减策略” — implementation details such as the optimizer or the learning-rate schedule",
        ("method", "方法", "借鉴", "代码", "purple", "紫色", "紫"),
    ),
    CategoryInfo(
        Category.LIMITATION, "不足与未来 Limitation", ("#f19837", "#ff7800"),
        "不足/未来工作 — limitations, future work",
        "作者承认的限制（Limitations），这往往是你的选题切入点 — limits the authors admit; often where your own topic starts",
        ("limitation", "不足", "局限", "未来工作", "orange", "橙色", "橙"),
    ),
    CategoryInfo(
        Category.BACKGROUND, "背景文献 Background", ("#aaaaaa",),
        "背景/引用文献 — background, references",
        "经典的参考文献，标记以后要去读 — classic references to read later",
        ("background", "背景", "引用", "文献", "引用文献", "gray", "grey", "灰色", "灰"),
    ),
    CategoryInfo(
        Category.QUESTION, "个人疑问 Question", ("#e56eee", "#00ffff"),
        "个人疑问/随笔 — your own questions and thoughts",
        "自己读不懂的地方，待查阅资料或问导师 — what you do not understand yet: to look up or ask your advisor",
        ("question", "疑问", "个人疑问", "问题", "随笔", "cyan", "青色", "青", "magenta"),
    ),
)

_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
_PREFIX = re.compile(r"\s*#(\S+)\s*")


def normalize_hex(color: str) -> str:
    """'#FFD400' or 'ffd400' -> '#ffd400', '#fd0' -> '#ffdd00'; ValueError otherwise."""
    m = _HEX.fullmatch(color.strip())
    if not m:
        raise ValueError(f"not a hex colour: {color!r}")
    h = m.group(1).lower()
    return "#" + (h if len(h) == 6 else "".join(c * 2 for c in h))


def _linear_rgb(color: str) -> tuple[float, float, float]:
    """sRGB hex -> linear-light RGB in [0, 1] (the sRGB transfer function, inverted)."""
    h = normalize_hex(color)

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(h[i:i + 2], 16) / 255) for i in (1, 3, 5))
    return r, g, b


def hex_to_lab(color: str) -> tuple[float, float, float]:
    """sRGB hex -> CIELAB (D65 white)."""
    r, g, b = _linear_rgb(color)
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def hex_to_oklch(color: str) -> tuple[float, float, float]:
    """sRGB hex -> OKLCH: lightness 0-1, chroma, hue angle in degrees (Ottosson's OKLab matrices)."""
    r, g, b = _linear_rgb(color)
    l_ = (0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b) ** (1 / 3)
    m_ = (0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b) ** (1 / 3)
    s_ = (0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b) ** (1 / 3)
    lightness = 0.2104542553 * l_ + 0.7936177850 * m_ - 0.0040720468 * s_
    a = 1.9779984951 * l_ - 2.4285922050 * m_ + 0.4505937099 * s_
    b_ = 0.0259040371 * l_ + 0.7827717662 * m_ - 0.8086757660 * s_
    return lightness, math.hypot(a, b_), math.degrees(math.atan2(b_, a)) % 360


def delta_e(c1: str, c2: str) -> float:
    """CIE76 colour difference: Euclidean distance in CIELAB."""
    return math.dist(hex_to_lab(c1), hex_to_lab(c2))


def by_hue(lightness: float, chroma: float, hue: float) -> Category:
    """The category of the hue a person would name for this OKLCH colour; uncategorized when none."""
    if lightness < MIN_LIGHTNESS:
        return Category.UNCATEGORIZED
    if chroma < MIN_CHROMA:
        return Category.UNCATEGORIZED if lightness > MAX_GREY_LIGHTNESS else Category.BACKGROUND
    category = HUE_BANDS[-1][1]  # below the first band's start: the last band, wrapped round
    for start, band in HUE_BANDS:
        if hue >= start:
            category = band
    if category is Category.QUESTION and hue >= MAGENTA and lightness < MAX_DARK_PURPLE_LIGHTNESS:
        return Category.METHOD
    return category


class Taxonomy:
    """Categories with their colours and names, and the rule that files an annotation."""

    def __init__(self, infos: list[CategoryInfo] | tuple[CategoryInfo, ...], threshold: float = DEFAULT_THRESHOLD,
                 exact: dict[str, Category] | None = None):
        self.infos = tuple(infos)
        self.threshold = threshold
        # The vault's own colours first, then the reader palettes, then the categories' swatches.
        known = {**{c: i.category for i in self.infos for c in i.colors}, **{p.hex: p.category for p in PALETTES}}
        self._exact = {**known, **(exact or {})}
        self._anchors = [(hex_to_lab(c), cat) for c, cat in self._exact.items()]
        self._by_word = {w.lower(): i.category for i in self.infos for w in (i.category.value, *i.aliases)}
        self._by_cat = {i.category: i for i in self.infos}
        self._by_color: dict[str | None, Category] = {}  # a library holds few distinct colours

    @classmethod
    @functools.cache
    def default(cls) -> Taxonomy:
        """The built-in code, made once: a Taxonomy does not change after it is made."""
        return cls(_DEFAULTS)

    @classmethod
    def from_config(cls, config: Config) -> Taxonomy:
        """The default code with the vault's colours, names and threshold; the vault's colours win."""
        infos = []
        exact: dict[str, Category] = {}
        for info in _DEFAULTS:
            key = info.category.value
            if key in config.taxonomy_colors:
                info = replace(info, colors=tuple(normalize_hex(c) for c in config.taxonomy_colors[key]))
                exact.update((c, info.category) for c in info.colors)
            if key in config.taxonomy_names:
                info = replace(info, name=config.taxonomy_names[key], aliases=(*info.aliases, config.taxonomy_names[key]))
            infos.append(info)
        threshold = config.taxonomy_threshold
        return cls(infos, DEFAULT_THRESHOLD if threshold is None else threshold, exact)

    def info(self, category: Category) -> CategoryInfo | None:
        return self._by_cat.get(category)

    def by_color(self, color: str | None) -> Category:
        """A known colour's category; else the nearest known colour's within the threshold; else by hue."""
        if color not in self._by_color:
            self._by_color[color] = self._judge(color)
        return self._by_color[color]

    def _judge(self, color: str | None) -> Category:
        if not color:
            return Category.UNCATEGORIZED
        try:
            color = normalize_hex(color)
        except ValueError:
            return Category.UNCATEGORIZED
        if color in self._exact:
            return self._exact[color]
        lab = hex_to_lab(color)
        best, category = min(((math.dist(lab, a), c) for a, c in self._anchors), default=(math.inf, None))
        if category is not None and best <= self.threshold:
            return category
        return by_hue(*hex_to_oklch(color))

    def by_word(self, word: str) -> Category | None:
        """The category a tag or prefix word names ('#question', '疑问', 'Question'), if any."""
        return self._by_word.get(word.strip().lstrip("#").lower())

    def split_prefix(self, comment: str) -> tuple[Category | None, str]:
        """'#question why?' -> (QUESTION, 'why?'); a comment without a category prefix is unchanged."""
        m = _PREFIX.match(comment or "")
        if m:
            category = self.by_word(m.group(1))
            if category is not None:
                return category, comment[m.end():]
        return None, comment

    def categorize(self, color: str | None, tags=(), comment: str = "") -> Category:
        """A tag or comment prefix naming a category wins over the colour."""
        for tag in tags:
            category = self.by_word(tag)
            if category is not None:
                return category
        category, _ = self.split_prefix(comment)
        return category if category is not None else self.by_color(color)

    def classify(self, paper: Paper) -> Paper:
        """A copy of `paper` whose annotations carry their category, category prefixes cut from comments."""
        annotations = []
        for a in paper.annotations:
            prefixed, rest = self.split_prefix(a.comment)
            category = self.categorize(a.color, tags=a.tags, comment=a.comment)
            fields = {**vars(a), "category": category, "comment": rest if prefixed is not None else a.comment}
            annotations.append(Annotation(**fields))  # a quarter of dataclasses.replace's cost, 40,000 times a sync
        return replace(paper, annotations=annotations)


def classify(paper: Paper, taxonomy: Taxonomy) -> Paper:
    """The classification stage: `paper` as its source read it, filed by `taxonomy`."""
    return taxonomy.classify(paper)
