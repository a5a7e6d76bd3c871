"""Text as a reader reads it: TeX accents composed, ligatures expanded, words broken at line ends joined."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Protocol

LIGATURES = re.compile("[\ufb00-\ufb17]")
_SURROGATE = re.compile("[\ud800-\udfff]")
SOFT_HYPHEN = "\u00ad"
LINE_END_HYPHENS = ("-", SOFT_HYPHEN, "\u2010")  # hyphen-minus, soft hyphen, hyphen

# TeX (OT1/T1 fonts without precomposed glyphs) draws an accent as a glyph of its own: the spacing
# form before its letter ("na¨ıve", "´e"), the cedilla and ogonek after it ("c¸"), on a dotless ı/ȷ.
SPACING_TO_COMBINING = {
    "\u00a8": "\u0308", "\u00b4": "\u0301", "`": "\u0300", "\u02c6": "\u0302", "\u02dc": "\u0303",
    "\u00b8": "\u0327", "\u02c7": "\u030c", "\u02d8": "\u0306", "\u02d9": "\u0307", "\u02da": "\u030a",
    "\u00af": "\u0304", "\u02dd": "\u030b", "\u02db": "\u0328",
}
_AFTER = "\u00b8\u02db"  # cedilla and ogonek hang below the letter they follow
_BEFORE = "".join(c for c in SPACING_TO_COMBINING if c not in _AFTER and c != "`")
# A grave accent is also TeX's opening quote (`like this'), so it is an accent only before a vowel.
_ACCENT_BEFORE = re.compile(f"(?:([{_BEFORE}])|`(?=[aeiouAEIOU\u0131])) ?([^\\W\\d_])")
_BELOW = re.compile(f"([^\\W\\d_]?)([{_AFTER}])([^\\W\\d_]?)")
_ANY_ACCENT = re.compile("[" + re.escape("".join(SPACING_TO_COMBINING)) + "]")
_TAKES_CEDILLA = set("cCsStT")
_DOTLESS = {"\u0131": "i", "\u0237": "j"}

# Prefixes that make compounds a line end does not join: "non-existent", "self-attention".
COMPOUND_PREFIXES = frozenset({"non", "self", "well", "ill", "half", "quasi", "cross", "co"})
_WORD = re.compile(r"[^\W_]+(?:[-\u2010][^\W_]+)*")


def compose_accents(text: str) -> str:
    """'na¨ıve' -> 'naïve', '´ecole' -> 'école', 'c¸a' -> 'ça' (Unicode NFC of the moved accent)."""
    if not _ANY_ACCENT.search(text):
        return text

    def base(letter: str) -> str:
        return _DOTLESS.get(letter, letter)

    def before(m: re.Match) -> str:
        accent = m.group(1) or "`"
        return unicodedata.normalize("NFC", base(m.group(2)) + SPACING_TO_COMBINING[accent])

    def below(m: re.Match) -> str:
        left, accent, right = m.groups()
        mark = SPACING_TO_COMBINING[accent]
        if left and (left in _TAKES_CEDILLA or right not in _TAKES_CEDILLA):
            return unicodedata.normalize("NFC", base(left) + mark) + right
        if right:
            return left + unicodedata.normalize("NFC", base(right) + mark)
        return m.group()

    return _ACCENT_BEFORE.sub(before, _BELOW.sub(below, text))


def no_lone_surrogates(text: str) -> str:
    """U+FFFD for each lone surrogate (a ToUnicode map or a UTF-16 string can give one): no UTF-8 has it."""
    return _SURROGATE.sub("\ufffd", text)


def clean(text: str) -> str:
    """Accents composed, ligatures expanded (ﬁ -> fi), soft hyphens dropped, whitespace collapsed."""
    text = compose_accents(no_lone_surrogates(text))
    text = LIGATURES.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text).replace(SOFT_HYPHEN, "")
    return " ".join(text.split())


def words(text: str) -> set[str]:
    """The lowercased words of a text, and of each compound also its hyphenated pairs ('state-of-the-art'
    gives 'of-the'); a line-end hyphen and soft hyphens do not make words."""
    spelled = set(_WORD.findall(compose_accents(text.replace(SOFT_HYPHEN, ""))))  # each word once: pages repeat them
    found = {word.lower().replace("\u2010", "-") for word in spelled}
    for word in [w for w in found if "-" in w]:
        parts = word.split("-")
        found.update(f"{a}-{b}" for a, b in zip(parts, parts[1:]))
    return found


class Evidence(Protocol):
    """The document's words that decide a line-end hyphen: `near` (already read, free to ask), then
    `far` (more of the document, read only when the rule alone would keep the hyphen)."""

    def near(self) -> Iterable[set[str]]: ...

    def far(self) -> Iterable[set[str]]: ...


def join_broken_word(before: str, after: str, evidence: Evidence) -> str:
    """`before` (ending in a word and a line-end hyphen) joined with the next line's `after`.

    The document decides first, nearest text first: the hyphenated form occurring there means a
    compound ('state-of-' 'the-art'), the joined word means the hyphen only broke it ('fol-' 'lowers';
    TeX's 'Trace-' 'Monkey'). Then a rule: a soft hyphen always breaks a word; lowercase on both
    sides joins unless the first part is a compound prefix ('non-' 'existent'); digits and capitals
    ('16-' 'bit', 'pre-' 'Norm') keep it, unless more of the document spells the word whole.
    """
    hyphen = before[-1]
    head = before[:-1]
    first = re.search(r"[^\W_]+$", head)
    last = re.match(r"[^\W_]+", after)
    if hyphen == SOFT_HYPHEN:
        return head + after
    if not first or not last:
        return head + hyphen + after
    left, right = first.group(), last.group()
    hyphenated, joined = f"{left}-{right}".lower(), f"{left}{right}".lower()
    for found in evidence.near():
        if hyphenated in found:
            return head + "-" + after
        if joined in found:
            return head + after
    if left[-1].islower() and right[0].islower() and left.lower() not in COMPOUND_PREFIXES:
        return head + after
    for found in evidence.far():
        if hyphenated in found:
            break
        if joined in found:
            return head + after
    return head + "-" + after


def join_lines(pieces: list[tuple[str, str]], evidence: Evidence) -> str:
    """Text pieces of consecutive lines -> one text; a piece's second item is the hyphen that ends its
    line just after the piece ('' if none): the line's own text shows it when the box stops before it."""
    out, pending = "", ""
    for text, hyphen_after in pieces:
        if not text:
            continue
        out += pending
        if out and out[-1] in LINE_END_HYPHENS and len(out) >= 2 and out[-2].isalnum():
            out = join_broken_word(out, text, evidence)
        else:
            out = f"{out} {text}" if out else text
        pending = hyphen_after
    return out
