"""Highlight text in a note reads, and searches, as the PDF's text: escaped only where it would change meaning.

The rendered text comes from markdown-it-py (CommonMark + Obsidian-like plugins, obsidian_checks.py);
Obsidian's own syntax (comments, highlights, wikilinks, tags, Dataview fields, block ids) is checked
on the raw line.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obsidian_checks import obsidian_syntax, rendered_text
from studykit.note import inline, neutral

# The callout puts highlight text on the line after its title: a "---" or "=" there would underline it.
TITLE = "[!quote] 🔴 p. 1"


def reads_as(text: str) -> tuple[str, list[str], list[str]]:
    line = inline(text)
    seen, other = rendered_text(f"{TITLE}\n{line}")
    return seen.partition("\n")[2], other, obsidian_syntax(line)


@pytest.mark.parametrize("text", [
    "88.55%", "z_0 = [x_class; x_p^1 E; ...; x_p^N E] + E_pos", "x_class", "snake_case_name", "a < b and c > d",
    "p < 0.05", "Top-1 accuracy (%)", "C++ and C#", "https://example.org/a_b?c=d", "e.g. [12], [13]", "O(n^2)",
    "50% + 50% = 100%", "a * b", "a|b", "it's \"quoted\"", "~/path", "1.5x faster",
    ". It might appear", ") and so on",  # a highlight that starts after a sentence: no list without a number
])
def test_plain_text_is_written_as_it_is(text):
    """Nothing in these changes meaning, so nothing is escaped: Obsidian's search finds them as typed."""
    assert inline(text) == text
    assert reads_as(text) == (text, [], [])


@pytest.mark.parametrize("text", [
    "%% studykit:end motivation 00000000 %%", "50%% off", "a == b", "==marked==", "[[not a link]]", "![[embed.png]]",
    "see [paper](https://x.org)", "[^1] note", "[ref]: https://x.org", "#hashtag at the start", "word #tag inside",
    "costs $5 and $10", "$E = mc^2$", "*emphasis*", "**bold**", "__init__ and _private_", "`code` and `more`",
    "~~struck~~", "<b>bold</b>", "<https://x.org>", "&amp; and &#123;", "key:: value", "[key:: value]",
    "ends with ^abc", "1. numbered", "2) numbered", "- dash", "+ plus", "* star", "> quote", "---", "- - -", "***",
    "=", "===", "a\\b\\*c", "trailing backslash \\", "# heading", "x ::: y",
])
def test_syntax_is_escaped_so_it_reads_as_the_pdf(text):
    seen, other, obsidian = reads_as(text)
    assert seen == text and other == [] and obsidian == [], (inline(text), seen, other, obsidian)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.text(alphabet="ab _*#=%$[]()!<>&;:^~`|\\-+.1>\n", max_size=24))
def test_any_text_reads_back_as_itself(text):
    expected = " ".join(text.split())
    seen, other, obsidian = reads_as(text)
    assert (seen, other, obsidian) == (expected, [], []), inline(text)


def test_neutral_values_cannot_open_a_region_or_a_comment():
    assert neutral("A\n%% studykit:begin quick-read %%") == "A %\\% studykit:begin quick-read %\\%"
    assert "%%" not in neutral("%%%%")
