"""The learning checklist: the `- [ ]` tasks of a vault's notes, and ticking one off.

Statuses follow the Obsidian Tasks plugin: `[ ]` todo, `[x]`/`[X]` done, `[/]` in progress,
`[-]` cancelled; any other symbol is, as in Tasks, a todo. Dataview inline fields such as
`[check:: PatchEmbed]` are read from the task text.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from studykit.errors import UserError

TODO, IN_PROGRESS, DONE, CANCELLED = "todo", "in_progress", "done", "cancelled"
STATUSES = (TODO, IN_PROGRESS, DONE, CANCELLED)
_STATUS_OF_SYMBOL = {" ": TODO, "x": DONE, "X": DONE, "/": IN_PROGRESS, "-": CANCELLED}

_TASK_RE = re.compile(r"^\[(.)\][ \t]+(.*)$")
# The marker of a task on its source line: indentation, blockquote '>'s, bullet or number, box.
_LINE_RE = re.compile(r"^(?P<lead>[ \t]*(?:>[ \t]?)*[ \t]*(?:[-*+]|\d+[.)])[ \t]+\[)(?P<sym>.)(?P<rest>\][ \t].*)$")
_FIELD_RE = re.compile(r"[\[(]([\w][\w -]*?)::[ \t]*([^\])]*?)[ \t]*[\])]")
_DONE_DATE_RE = re.compile(r"[ \t]*✅[ \t]*\d{4}-\d{2}-\d{2}")
_BLOCK_ID_RE = re.compile(r"([ \t]+\^[A-Za-z0-9-]+)$")


@dataclass
class ChecklistItem:
    """One task: where it is, its status and its text."""

    note: str  # path of the note relative to the vault, with '/' separators
    line: int  # 0-based line of the task's marker in the note
    symbol: str  # the character between the brackets
    text: str  # the task's text after the checkbox, a wrapped task's lines joined by a space
    heading: str = ""  # the nearest heading above it ("" before any heading)
    headings: list[str] = field(default_factory=list)  # every enclosing heading, outermost first
    fields: dict[str, str] = field(default_factory=dict)  # inline fields, e.g. {"check": "PatchEmbed"}

    @property
    def status(self) -> str:
        return _STATUS_OF_SYMBOL.get(self.symbol, TODO)

    @property
    def title(self) -> str:
        """The text without its inline fields and done date: what the reader reads as the task."""
        return " ".join(_DONE_DATE_RE.sub("", _FIELD_RE.sub("", self.text)).split())

    def to_json(self) -> dict:
        return {
            "note": self.note, "line": self.line + 1, "status": self.status, "symbol": self.symbol,
            "text": self.title, "heading": self.heading, "fields": dict(self.fields),
        }


def _markdown():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    return MarkdownIt("commonmark").use(front_matter_plugin).enable("table")


def parse_tasks(text: str, note: str = "") -> list[ChecklistItem]:
    """Every task of one note, in order, with the headings it sits under."""
    tokens = _markdown().parse(text)
    items: list[ChecklistItem] = []
    headings: list[tuple[int, str]] = []  # (level, title) of the enclosing headings
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            level = int(tok.tag[1:])
            headings = [h for h in headings if h[0] < level] + [(level, tokens[i + 1].content.strip())]
        elif tok.type == "list_item_open" and tokens[i + 1].type == "paragraph_open":  # then comes its inline
            first, *wrapped = tokens[i + 2].content.split("\n")
            m = _TASK_RE.match(first)
            if not m:
                continue
            body = " ".join([m.group(2).strip(), *(line.strip() for line in wrapped)]).strip()
            titles = [h[1] for h in headings]
            items.append(ChecklistItem(
                note=note, line=tok.map[0], symbol=m.group(1), text=body,
                heading=titles[-1] if titles else "", headings=titles,
                fields={k.strip(): v.strip() for k, v in _FIELD_RE.findall(body)},
            ))
    return items


def vault_notes(vault: Path) -> list[tuple[Path, str]]:
    """(path, vault-relative name with '/') of each Markdown note Obsidian shows, sorted."""
    from vault_export.vault import Vault

    v = Vault(vault)
    return [(path, v.link(path)) for path in sorted(v.notes())]


def scan_vault(vault: Path) -> list[ChecklistItem]:
    """Every task in every note of the vault."""
    vault = Path(vault)
    if not vault.is_dir():
        raise UserError(f"{vault}: not a folder (give the vault's folder)")
    items: list[ChecklistItem] = []
    for path, name in vault_notes(vault):
        text = path.read_bytes().decode(errors="replace")
        items.extend(parse_tasks(text, name))
    return items


def find_task(items: list[ChecklistItem], query: str, where: str) -> ChecklistItem:
    """The one task whose text is `query` or contains it; a UserError naming the candidates otherwise."""
    q = " ".join(query.split()).casefold()
    exact = [it for it in items if it.title.casefold() == q or it.text.casefold() == q]
    matches = exact or [it for it in items if q in it.title.casefold() or q in it.text.casefold()]
    if len(matches) == 1:
        return matches[0]
    if matches:
        listing = "; ".join(f"line {it.line + 1}: {it.title!r}" for it in matches)
        raise UserError(f"{where}: {query!r} matches {len(matches)} tasks, say which: {listing}")
    close = difflib.get_close_matches(q, [it.title.casefold() for it in items], n=5, cutoff=0.45)
    candidates = [it for c in close for it in items if it.title.casefold() == c] or items[:10]
    listing = "; ".join(repr(it.title) for it in candidates) or "the note has no tasks"
    raise UserError(f"{where}: no task matches {query!r}; candidates: {listing}")


# Lines as Markdown counts them (markdown-it: \r\n, \r or \n), not str.splitlines, which also breaks
# at U+2028, form feed, NEL and others, so that `ChecklistItem.line` indexes the right line.
_SOURCE_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+\Z")


def source_lines(text: str) -> list[str]:
    """`text`'s lines with their endings, as Markdown numbers them."""
    return _SOURCE_LINE.findall(text)


def mark_done(line: str, today: date) -> str:
    """A task's source line with its box ticked and the Tasks plugin's done date added."""
    eol = line[len(line.rstrip("\r\n")):]
    body = line[: len(line) - len(eol)]
    m = _LINE_RE.match(body)
    if not m:
        raise ValueError(f"not a task line: {line!r}")
    rest = _DONE_DATE_RE.sub("", m.group("rest"))
    stamp = f" ✅ {today.isoformat()}"
    block = _BLOCK_ID_RE.search(rest)  # Tasks keeps a block id last
    rest = rest[: block.start()] + stamp + block.group(1) if block else rest.rstrip() + stamp
    return m.group("lead") + "x" + rest + eol


def tick(note: Path, query: str, today: date | None = None, vault: Path | None = None) -> tuple[ChecklistItem, bool]:
    """Mark the task of `note` matching `query` done; returns it and whether the note changed.

    Only that task's line changes; the write is atomic.
    """
    from vault_export.atomic import write_atomic

    note = Path(note)
    if not note.is_file():
        raise UserError(f"{note}: no such note")
    try:
        text = note.read_bytes().decode()
    except UnicodeDecodeError as exc:
        raise UserError(f"{note}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    rel = note.relative_to(vault).as_posix() if vault else note.name
    item = find_task(parse_tasks(text, rel), query, str(note))
    if item.status == DONE:
        return item, False
    lines = source_lines(text)
    lines[item.line] = mark_done(lines[item.line], today or date.today())
    write_atomic(note, "".join(lines).encode())
    item.symbol = "x"
    return item, True


def tick_checks(vault: Path, names: list[str], today: date | None = None, paper: str = "") -> list[ChecklistItem]:
    """Tick every open task in the vault whose `[check:: NAME]` names one of `names`; returns them.

    `paper`: the checked file's arXiv id; another paper's learning guide is left alone (two papers
    can both have a PatchEmbed)."""
    from vault_export.atomic import write_atomic

    vault = Path(vault)
    wanted = {n.casefold() for n in names}
    ticked: list[ChecklistItem] = []
    for path, name in vault_notes(vault):
        try:
            text = path.read_bytes().decode()
        except UnicodeDecodeError:
            continue  # rewriting it would mangle the bytes we cannot read
        guide_of = re.search(r"^studykit-id: studykit:learning-guide:(\S+)$", text.split("\n---", 1)[0], re.M)
        if paper and guide_of and guide_of.group(1) != paper:
            continue
        hits = [
            it for it in parse_tasks(text, name)
            if it.status != DONE and "check" in it.fields and it.fields["check"].casefold() in wanted
        ]
        if not hits:
            continue
        lines = source_lines(text)
        for it in hits:
            lines[it.line] = mark_done(lines[it.line], today or date.today())
            it.symbol = "x"
        write_atomic(path, "".join(lines).encode())
        ticked.extend(hits)
    return ticked
