"""How Obsidian and its plugins read a note, as checks the tests run on every generated note.

Structure: markdown-it-py with the CommonMark rules and the plugins that match Obsidian's syntax
(front matter, dollar math, task lists, footnotes). The plugins' own formats, from their sources:

- Spaced Repetition (st3v3nmw/obsidian-spaced-repetition, src/parser.ts at 281b35c and the
  DEFAULT_SETTINGS of src/settings.ts): only a note carrying a flashcard tag (`#flashcards`,
  nested `#flashcards/...` included, in the text or the `tags` property) is read. In it every line
  holding `::` is a single-line card (`:::` reversed), a line that is exactly `?` (`??` reversed)
  ends the question of a multi-line card, a line with `==...==` starts a cloze (on by default),
  a blank line ends a card, fenced code is skipped as one piece, `<!--SR:...-->` on the line
  after a card is its schedule.
- Obsidian's links (help.obsidian.md, "Internal links"): `[[target#heading|alias]]` and
  `![[embed]]`; a target with no folder resolves to the file of that name anywhere in the vault,
  one with a path to the file at that path from the vault root (or relative to the note), `.md`
  implied for notes. `%%...%%` is a comment; `^id` at the end of a block is a block id.
"""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

FLASHCARD_TAG = "flashcards"


def markdown() -> MarkdownIt:
    return (MarkdownIt("commonmark").use(front_matter_plugin).use(dollarmath_plugin)
            .use(tasklists_plugin).use(footnote_plugin))


_MD = markdown()


def rendered_text(line: str) -> tuple[str, list[str]]:
    """What a reader sees of one Markdown line, and the inline token types other than plain text."""
    [_, inline, _] = _MD.parse(line)
    text, other = [], []
    for child in inline.children:
        if child.type == "text":
            text.append(child.content)
        elif child.type == "softbreak":
            text.append("\n")
        else:
            other.append(child.type)
    return "".join(text), other


def obsidian_syntax(line: str) -> list[str]:
    """Obsidian's own inline syntax that CommonMark does not know, found in a line's raw text."""
    found = []
    unescaped = re.sub(r"\\.", "\x00", line)  # a backslash-escaped character is literal
    for name, pattern in (("comment %%", r"%%"), ("highlight ==", r"=="), ("wikilink [[", r"\[\["),
                          ("tag #", r"(?:^|\s)#[^\s#]"), ("dataview ::", r"::"), ("strike ~~", r"~~"),
                          ("block id", r"\s\^[A-Za-z0-9-]+$"), ("math $", r"\$[^$\s][^$]*\$")):
        if re.search(pattern, unescaped):
            found.append(name)
    return found


# --- Spaced Repetition --------------------------------------------------------------------------

def flashcard_tags(text: str) -> list[str]:
    """The flashcard tags SR sees in a note: in the text (outside code) or in its `tags` property."""
    import yaml

    tags = []
    body = text
    if text.startswith("---\n"):
        head, _, body = text[4:].partition("\n---\n")
        try:
            props = yaml.safe_load(head) or {}
        except yaml.YAMLError:
            props = {}
        value = props.get("tags") if isinstance(props, dict) else None
        tags += [str(t).lstrip("#") for t in (value if isinstance(value, list) else [value] if value else [])]
    body = re.sub(r"```.*?```", "", body, flags=re.S)
    body = re.sub(r"`[^`\n]*`", "", body)
    tags += re.findall(r"(?:^|\s)#([^\s#,.;:!?()\[\]]+)", body)
    return [t for t in tags if t == FLASHCARD_TAG or t.startswith(FLASHCARD_TAG + "/")]


def sr_cards(text: str) -> list[tuple[str, str, int]]:
    """(type, card text, line) of each card SR's parser finds in a note, with SR's default settings."""
    cards: list[tuple[str, str, int]] = []
    card_text, card_type, line_no = "", None, 0
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line:
            if card_type:
                cards.append((card_type, card_text, line_no))
                card_type = None
            card_text = ""
            i += 1
            continue
        if line.startswith("<!--") and not line.startswith("<!--SR:"):
            while i + 1 < len(lines) and "-->" not in lines[i]:
                i += 1
            i += 1
            continue
        card_text = card_text + "\n" + line if card_text else line
        if ":::" in line or "::" in line:
            card_type = "single-reversed" if ":::" in line else "single"
            card_text, line_no = line, i
            if i + 1 < len(lines) and lines[i + 1].startswith("<!--SR:"):
                card_text += "\n" + lines[i + 1]
                i += 1
            cards.append((card_type, card_text, line_no))
            card_type, card_text = None, ""
        elif card_type is None and re.search(r"==.*?==", line):
            card_type, line_no = "cloze", i
        elif line == "?":
            card_type, line_no = "multi", i
        elif line == "??":
            card_type, line_no = "multi-reversed", i
        elif line.startswith("```") or line.startswith("~~~"):
            close = re.match(r"`+|~+", line).group(0)
            while i + 1 < len(lines) and not lines[i + 1].startswith(close):
                i += 1
                card_text += "\n" + lines[i]
            card_text += "\n" + close
            i += 1
        i += 1
    if card_type and card_text:
        cards.append((card_type, card_text, line_no))
    return cards


def junk_cards(text: str) -> list[str]:
    """Cards SR would make of a note that are not flashcards: task lines, fields, code, empty sides."""
    if not flashcard_tags(text):
        return []
    junk = []
    for kind, card, _line in sr_cards(text):
        body = "\n".join(line for line in card.split("\n") if not line.startswith("<!--SR:"))
        if kind.startswith("single"):
            question, _, answer = body.partition(":::" if kind == "single-reversed" else "::")
            sides = [question, answer]
        else:
            sides = [body]
        if (any(not side.strip() for side in sides) or re.search(r"^\s*[-*+] \[.\]", body, re.M)
                or "```" in body or re.search(r"\[[\w-]+$", sides[0].strip())):
            junk.append(card)
    return junk


# --- links and the rest of a note ---------------------------------------------------------------

_WIKILINK = re.compile(r"(!?)\[\[([^\]|#^]*)(?:[#^][^\]|]*)?(?:\|[^\]]*)?\]\]")
_MDLINK = re.compile(r"(!?)\[[^\]]*\]\(([^)\s]+)\)")


def _without_code(text: str) -> str:
    text = re.sub(r"^(?:> ?)*(`{3,}|~{3,}).*?^(?:> ?)*\1[ \t]*$", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]+`", "", text)


def resolve(vault: Path, note: Path, target: str) -> Path | None:
    """The file an Obsidian link target names, by Obsidian's rules, or None."""
    target = target.strip()
    if not target:
        return note  # [[#heading]]: this note
    names = [target] if Path(target).suffix else [target + ".md", target]
    files = [p for p in vault.rglob("*") if p.is_file() and ".obsidian" not in p.parts]
    for name in names:
        for base in (vault, note.parent):
            candidate = base / name
            if candidate.is_file() and candidate.resolve().is_relative_to(vault.resolve()):
                return candidate
        if "/" not in name:
            same = [p for p in files if p.name.casefold() == name.casefold()]
            if same:
                return min(same, key=lambda p: len(p.relative_to(vault).parts))
        else:
            tail = [p for p in files if p.relative_to(vault).as_posix().casefold().endswith("/" + name.casefold())]
            if tail:
                return tail[0]
    return None


def note_problems(vault: Path, note: Path, *, to_write: set[str] = frozenset()) -> list[str]:
    """Everything a reader on another machine, or a plugin, would find wrong in `note`.

    `to_write`: link targets meant for notes the reader writes (the paper note's [[concept]] links).
    """
    text = note.read_text(encoding="utf-8")
    problems = []
    if "file://" in text:
        problems.append("file:// link")
    prose = _without_code(text)
    for embed, target in _WIKILINK.findall(prose):
        if target not in to_write and resolve(vault, note, target) is None:
            problems.append(f"unresolved {'embed' if embed else 'link'} [[{target}]]")
    for _embed, target in _MDLINK.findall(prose):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # https:, zotero:, mailto:
        if target.startswith("/") or re.match(r"[A-Za-z]:\\", target):
            problems.append(f"absolute path {target}")
        elif resolve(vault, note, target.split("#")[0].replace("%20", " ")) is None:
            problems.append(f"unresolved link ({target})")
    ids = re.findall(r"(?:^|[ \t])\^([A-Za-z0-9-]+)$", prose, re.M)
    if len(ids) != len(set(ids)):
        problems.append("duplicate block ids")
    if prose.count("%%") % 2:
        problems.append("unbalanced %%")
    problems += [f"junk card: {card!r}" for card in junk_cards(text)]
    problems += _math_problems(text)
    return problems


def _math_problems(text: str) -> list[str]:
    """Each `$$` line must open a display-math block (not inline math in a paragraph), braces balanced."""
    problems = []
    tokens = _MD.parse(text)
    blocks = [t.content for t in tokens if t.type in ("math_block", "math_block_label")]
    opened = len(re.findall(r"^\$\$\s*$", _without_code(text), re.M)) // 2
    if len(blocks) != opened:
        problems.append(f"{opened} $$ blocks in the text, {len(blocks)} parsed as display math")
    for block in blocks:
        unescaped = re.sub(r"\\[{}]", "", block)
        depth = 0
        for char in unescaped:
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth < 0:
                break
        if depth:
            problems.append(f"unbalanced braces in $$ {block.strip()[:40]}")
    return problems
