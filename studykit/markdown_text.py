"""Text from a PDF or from the reader put into a note's Markdown, escaped only where Obsidian would
read it as markup (pure, no I/O)."""

from __future__ import annotations

import re


def inline(text: str) -> str:
    """Text from the PDF as one Markdown line that renders (and searches) as the PDF's text.

    Only what would change its meaning there is escaped: comments, highlights, links and embeds,
    tags, math, emphasis, code, HTML, a trailing block id, a Dataview field, a leading list,
    quote or heading marker. "88.55%" and "x_class" stay as they are.
    """
    text = " ".join(text.split())
    if _MARKUP.search(text):  # most highlights hold none of these: a note of 1,000 papers has 40,000
        text = _escape_markup(text)
    return _LINE_START.sub(_escape_line_start, text, 1)


def _escape_markup(text: str) -> str:
    text = _BACKSLASH.sub(r"\\\\", text)
    # A run of two makes a comment, a highlight, a strike, and "key:: value" a Dataview field: break every pair.
    text = _PAIRS.sub(r"\\\g<0>", text)
    if _LINKS.search(text):  # links, embeds, footnotes, a link definition
        text = text.replace("[", "\\[")
    for char in "`*$":  # one alone cannot open and close a span
        if text.count(char) > 1:
            text = text.replace(char, "\\" + char)
    if len(_LOOSE_UNDERSCORE.findall(text)) > 1:  # "x_class" is a word: only an underscore at a word edge can emphasise
        text = _LOOSE_UNDERSCORE.sub(r"\\_", text)
    text = _HTML.sub(r"\\\g<0>", text)
    text = _ENTITY.sub(r"\\&", text)
    text = _TAG.sub(r"\\#", text)
    return _BLOCK_ID.sub(r"\1\\^", text)


def _escape_line_start(match: re.Match) -> str:
    return match.group(1) + "\\" + match.group(2) if match.group(1) else "\\" + match.group(3)


# Every character one of the escapes above acts on; text without any of them needs none.
_MARKUP = re.compile(r"[\\%=~:\[\]`*$_<&#^]")
_PAIRS = re.compile(r"(?<=%)%|(?<==)=|(?<=~)~|(?<=:):")
_LINKS = re.compile(r"\[\[|\[\^|\]\(|\]\[|^\[[^\]]*\]:")
_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~]|$)")
_LOOSE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_HTML = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_TAG = re.compile(r"(?:^|(?<=\s))#")
_BLOCK_ID = re.compile(r"(\s)\^(?=[A-Za-z0-9-]+$)")
# A numbered or bulleted list item (". " alone is none), a quote, a thematic break or (under the
# callout's first line) a setext underline.
_LINE_START = re.compile(r"^(?:(\d{1,9})([.)](?=\s|$))|([-+*](?=\s|$)|>|[-_](?=(?:\s*[-_]){2,}\s*$)|=(?=[=\s]*$)))")


def neutral(text: str) -> str:
    """Any value put into a note on one line: no newline, no `%%` that could open a comment or a region."""
    return _PERCENT_PAIR.sub(r"\\%", " ".join(str(text).split()))


def comment_markdown(text: str) -> str:
    """The reader's own comment stays Markdown ($math$, [[links]]), but cannot close a region or fence."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return "\n".join(_PERCENT_PAIR.sub(r"\\%", line).replace("```", "\\`\\`\\`") for line in lines)


_PERCENT_PAIR = re.compile(r"(?<=%)%")
