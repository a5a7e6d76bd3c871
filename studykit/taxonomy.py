"""The reader's colour code: which category a highlight colour, tag or comment prefix means."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, replace

from studykit.model import Category

# CIE76 distance within which a colour joins its nearest anchor. Anchors are the colours of
# Zotero 6/7, Acrobat, Preview and Skim; anchors of different categories are >= 26 apart.
# Tool-default markup colours (pure red 36, pure blue 73, black 70, white 30 from the nearest
# anchor) and in-between hues like dark purple (25 from magenta) must stay uncategorized,
# while shades of a reader colour (Acrobat's crimson 21, material red 20) still land.
DEFAULT_THRESHOLD = 22.0


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
    """'#FFD400', 'ffd400' or '#fd0' -> '#ffd400'; ValueError otherwise."""
    m = _HEX.fullmatch(color.strip())
    if not m:
        raise ValueError(f"not a hex colour: {color!r}")
    h = m.group(1).lower()
    return "#" + (h if len(h) == 6 else "".join(c * 2 for c in h))


def hex_to_lab(color: str) -> tuple[float, float, float]:
    """sRGB hex -> CIELAB (D65 white)."""
    h = normalize_hex(color)

    def linear(c: float) -> float:  # sRGB transfer function, inverted
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(h[i:i + 2], 16) / 255) for i in (1, 3, 5))
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e(c1: str, c2: str) -> float:
    """CIE76 colour difference: Euclidean distance in CIELAB."""
    return math.dist(hex_to_lab(c1), hex_to_lab(c2))


class Taxonomy:
    """Categories with their colours and names, and the rule that files an annotation."""

    def __init__(self, infos: list[CategoryInfo] | tuple[CategoryInfo, ...], threshold: float = DEFAULT_THRESHOLD):
        self.infos = tuple(infos)
        self.threshold = threshold
        self._anchors = [(hex_to_lab(c), i.category) for i in self.infos for c in i.colors]
        self._by_word = {w.lower(): i.category for i in self.infos for w in (i.category.value, *i.aliases)}
        self._by_cat = {i.category: i for i in self.infos}
        self._by_color: dict[str | None, Category] = {}  # a library holds few distinct colours

    @classmethod
    @functools.cache
    def default(cls) -> Taxonomy:
        """The built-in code, made once: a Taxonomy does not change after it is made."""
        return cls(_DEFAULTS)

    @classmethod
    def from_config(cls, config) -> Taxonomy:
        """The default code with the vault's colours, names and threshold (studykit.config.Config)."""
        colors = getattr(config, "taxonomy_colors", {}) or {}
        names = getattr(config, "taxonomy_names", {}) or {}
        infos = []
        for info in _DEFAULTS:
            key = info.category.value
            if key in colors:
                info = replace(info, colors=tuple(normalize_hex(c) for c in colors[key]))
            if key in names:
                info = replace(info, name=names[key], aliases=(*info.aliases, names[key]))
            infos.append(info)
        threshold = getattr(config, "taxonomy_threshold", None)
        return cls(infos, DEFAULT_THRESHOLD if threshold is None else threshold)

    def info(self, category: Category) -> CategoryInfo | None:
        return self._by_cat.get(category)

    def by_color(self, color: str | None) -> Category:
        """Nearest category within the threshold, else uncategorized."""
        if color not in self._by_color:
            self._by_color[color] = self._nearest(color)
        return self._by_color[color]

    def _nearest(self, color: str | None) -> Category:
        if not color:
            return Category.UNCATEGORIZED
        try:
            lab = hex_to_lab(color)
        except ValueError:
            return Category.UNCATEGORIZED
        best, category = min(((math.dist(lab, a), c) for a, c in self._anchors), default=(math.inf, None))
        return category if best <= self.threshold else Category.UNCATEGORIZED

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
