"""Obsidian properties (YAML front matter): split, load, an Obsidian-friendly dump, and merge.

`dump(mapping)` writes lists as indented block lists, dates as YYYY-MM-DD, strings with
[[links]], URLs, a leading # or edge spaces double-quoted, unicode as is, keys in the given
order, None as an empty value. The note templates' `yaml` filter is this dump too.

`merge(old_yaml, new_yaml, generated_keys)` works on the raw text: each top-level key is a
chunk of lines; the reader's chunks are kept byte for byte at their position (comments and
odd formatting included), a generated key's chunk is replaced by the freshly rendered one
(or dropped when the rendered note no longer has it), and `tags` becomes the union of both,
the reader's tags first (re-dumped only when a tag is added). Keys new to the note are inserted
after the key that precedes them in the rendered order. Front matter that this cannot merge
exactly is never rewritten: the merge returns it unchanged with a conflict. That is front matter
that is not valid YAML or not a mapping, a key given twice, a complex (`? key`) key, lines that do
not split into one chunk per key (an anchor used as a key, say), a comment inside a generated key
that refreshing it would drop, and any merge whose result would not load as the expected values.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import yaml

from vault_export.simple_yaml import dump_simple


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loading with YAML 1.2 booleans, as Obsidian reads them: `no` and `on` are text."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_OPEN = re.compile(r"---[ \t]*\r?\n")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.M)
_KEY = re.compile(r"([^\s#'\"\-][^\r\n]*?|-[^\s\r\n][^\r\n]*?)[ \t]*:(?:[ \t]|\r?\n|\Z)")
_QUOTED_KEY = re.compile(r"(\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\n]|'')*')[ \t]*:(?:[ \t]|\r?\n|\Z)")
_ENTRY = re.compile(r"(?!-(?:\s|$))[^\s#]")  # a line that starts a top-level key (not a list item)


class FrontMatterError(ValueError):
    """The front matter is not a YAML mapping."""


@dataclass
class Split:
    """A note cut into its front matter fences, the YAML between them and the body."""

    open: str  # "---\n", or "" when the note has no front matter
    yaml: str
    close: str
    body: str

    def join(self) -> str:
        return self.open + self.yaml + self.close + self.body


def split(text: str) -> Split:
    opening = _OPEN.match(text)
    if opening:
        closing = _CLOSE.search(text, opening.end())
        if closing:
            return Split(opening.group(0), text[opening.end() : closing.start()], closing.group(0), text[closing.end() :])
    return Split("", "", "", text)


def load(yaml_text: str) -> dict:
    """The properties as a dict; FrontMatterError when they are not a YAML mapping."""
    try:
        data = yaml.load(yaml_text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark else ""
        raise FrontMatterError(f"front matter is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FrontMatterError("front matter is not a list of properties (key: value)")
    return data


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.:/-]*(?<!:)")  # no space, quote, indicator or number: plain text
_NOT_TEXT = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}  # words some YAML reads otherwise


def read_key(yaml_text: str, key: str) -> Any:
    """The value of one top-level `key` without loading the rest; None when absent."""
    match = re.search(rf"^{re.escape(key)}[ \t]*:[ \t]*(.*?)[ \t]*\r?$", yaml_text, re.M)
    if not match or not match.group(1):
        return None
    if _WORD.fullmatch(match.group(1)) and match.group(1).lower() not in _NOT_TEXT:
        return match.group(1)  # a studykit-id read from each of 1,000 notes: YAML would read it as this text
    try:
        return yaml.load(match.group(1), Loader=_Loader)
    except yaml.YAMLError:
        return None


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)  # "  - item", as Obsidian writes lists


def _represent_str(dumper: yaml.SafeDumper, value: str):
    quoted = "[[" in value or "://" in value or value.startswith("#") or value != value.strip()
    style = '"' if quoted else ("|" if "\n" in value else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_none(dumper: yaml.SafeDumper, _value: None):
    return dumper.represent_scalar("tag:yaml.org,2002:null", "")


def _represent_datetime(dumper: yaml.SafeDumper, value: _dt.datetime):
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", value.isoformat(timespec="seconds"))


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(type(None), _represent_none)
_Dumper.add_representer(_dt.datetime, _represent_datetime)
for _seq in (tuple, set, frozenset):
    _Dumper.add_representer(_seq, lambda dumper, value: dumper.represent_list(list(value)))


def dump(mapping: dict) -> str:
    """Obsidian-friendly YAML for `mapping`, ending with a newline ("" for an empty mapping)."""
    if not mapping:
        return ""
    simple = dump_simple(mapping)
    if simple is not None:
        return simple
    return yaml.dump(dict(mapping), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10**9, default_flow_style=False)


def _tag_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [t for t in re.split(r"[,\s]+", value) if t]
    if isinstance(value, (list, tuple)):
        return [str(t) for t in value if t is not None and str(t)]
    return [str(value)]


def merge_tags(old: Any, new: Any) -> list[str]:
    """The reader's tags in their order, then the new ones they lack (Obsidian ignores case and '#')."""
    merged = _tag_list(old)
    seen = {t.lstrip("#").casefold() for t in merged}
    for tag in _tag_list(new):
        if tag.lstrip("#").casefold() not in seen:
            seen.add(tag.lstrip("#").casefold())
            merged.append(tag)
    return merged


def merge_values(old: dict, new: dict, generated_keys: Iterable[str] | None = None) -> dict:
    """Reader's keys kept in place, generated keys from `new`, tags merged; new keys after their predecessor."""
    generated = set(new if generated_keys is None else generated_keys) - {"tags"}
    out: dict = {}
    for key, value in old.items():
        if key == "tags" and "tags" in new:
            out[key] = merge_tags(value, new["tags"])
        elif str(key) in generated:
            if key in new:
                out[key] = new[key]
        else:
            out[key] = value
    return _insert_missing(out, list(new.items()), generated)


def _insert_missing(out: dict, new_items: list[tuple[Any, Any]], generated: set[str]) -> dict:
    items = list(out.items())
    for i, (key, value) in enumerate(new_items):
        keys = [k for k, _ in items]
        if key in keys or (str(key) not in generated and key != "tags"):
            continue
        prev = next((k for k, _ in reversed(new_items[:i]) if k in keys), None)
        items.insert(keys.index(prev) + 1 if prev is not None else 0, (key, value))
    return dict(items)


@dataclass
class _Chunks:
    prelude: str  # comments or blank lines before the first key
    entries: list[tuple[str, str]]  # (key, raw lines)


def split_lines(text: str) -> list[str]:
    """Lines split at "\n" only: str.splitlines would also cut at NEL, U+2028 and others inside values."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def _chunks(yaml_text: str) -> _Chunks:
    lines = split_lines(yaml_text)
    prelude: list[str] = []
    entries: list[tuple[str, list[str]]] = []
    for line in lines:
        if _ENTRY.match(line):
            match = _KEY.match(line)  # a plain key; quoted and odd ones are left to YAML
            entries.append((match.group(1) if match else _quoted_key(line), [line]))
        elif entries:
            entries[-1][1].append(line)
        else:
            prelude.append(line)
    return _Chunks("".join(prelude), [(k, "".join(raw)) for k, raw in entries])


def _quoted_key(line: str) -> str:
    """The key of a line that starts with a quoted key, unquoted; else the line itself (no key YAML agrees on)."""
    match = _QUOTED_KEY.match(line)
    return str(yaml.load(match.group(1), Loader=_Loader)) if match else line.strip()


def newline_of(text: str) -> str:
    """The line ending of `text`'s first line: "\\r\\n" or "\\n"."""
    end = text.find("\n")
    return "\r\n" if end > 0 and text[end - 1] == "\r" else "\n"


def as_newline(text: str, newline: str) -> str:
    """`text` with every line ending made `newline`."""
    return text.replace("\r\n", "\n").replace("\n", newline)


def _split_trivia(raw: str) -> tuple[str, str]:
    """A chunk's value lines and the blank / comment lines that trail it."""
    lines = split_lines(raw)
    keep = len(lines)
    while keep > 1 and (not lines[keep - 1].strip() or lines[keep - 1].startswith("#")):
        keep -= 1
    cut = sum(map(len, lines[:keep]))
    return raw[:cut], raw[cut:]


@dataclass
class FrontMatterMerge:
    text: str
    conflicts: list[str] = field(default_factory=list)


def merge(old_yaml: str, new_yaml: str, generated_keys: Iterable[str] | None = None) -> FrontMatterMerge:
    """Merge the rendered properties `new_yaml` into the note's `old_yaml`, keeping the reader's lines."""
    old_chunks, new_chunks = _chunks(old_yaml), _chunks(new_yaml)
    new_raw = dict(new_chunks.entries)
    generated = set(new_raw if generated_keys is None else generated_keys) - {"tags"}
    newline = newline_of(old_yaml) if old_yaml else newline_of(new_yaml)

    out: list[tuple[str, str]] = []
    dropped: list[str] = []  # keys whose rewritten lines would lose a comment of the reader's
    for key, raw in old_chunks.entries:
        fresh = raw
        if key == "tags" and "tags" in new_raw:
            fresh = _merged_tags_chunk(raw, new_raw["tags"], newline)
        elif key in generated:
            if key not in new_raw:
                continue
            value, trivia = _split_trivia(raw)
            rendered = as_newline(new_raw[key], newline)
            if not rendered.endswith("\n"):
                rendered += newline
            if rendered != value:
                fresh = rendered + trivia  # the reader's blank lines and comments after it stay
        if fresh != raw and _has_comment(_split_trivia(raw)[0]):
            dropped.append(key)
        out.append((key, fresh))
    inserted = _insert_missing(dict(out), [(k, as_newline(r, newline)) for k, r in new_chunks.entries], generated)
    text = old_chunks.prelude + "".join(r if r.endswith("\n") else r + newline for r in inserted.values())
    if text == old_yaml:
        return FrontMatterMerge(old_yaml)

    try:
        old_values = load(old_yaml)
    except FrontMatterError as exc:
        return FrontMatterMerge(old_yaml, [f"{exc}; properties left as they are"])
    keys = [k for k, _ in old_chunks.entries]
    twice = next((k for i, k in enumerate(keys) if k in keys[:i]), None)
    if twice is not None:
        return _kept(old_yaml, f"property {twice!r} is given twice")
    if [str(k) for k in old_values] != keys:
        return _kept(old_yaml, "properties studykit cannot tell apart line by line (a complex or anchored key)")
    if dropped:
        return _kept(old_yaml, f"property {dropped[0]!r} holds a comment that refreshing it would drop")
    expected = merge_values(old_values, load(new_yaml), generated_keys)
    try:
        if list(load(text).items()) == list(expected.items()):
            return FrontMatterMerge(text)
    except FrontMatterError:
        pass  # the lines merged into YAML that does not load (an alias whose anchor was refreshed away)
    return _kept(old_yaml, "properties studykit cannot merge without rewriting your lines")


def _kept(old_yaml: str, why: str) -> FrontMatterMerge:
    return FrontMatterMerge(old_yaml, [f"{why}; properties left as they are, generated ones not refreshed"])


def _has_comment(lines: str) -> bool:
    """Whether the YAML `lines` hold a comment: a # that no token of theirs contains."""
    if "#" not in lines:
        return False
    try:
        inside = {i for t in yaml.scan(lines, Loader=yaml.SafeLoader) for i in range(t.start_mark.index, t.end_mark.index)}
    except yaml.YAMLError:
        return True  # cannot tell: take it that there is one
    return any(m.start() not in inside for m in re.finditer(r"(?:^|(?<=[ \t]))#", lines, re.M))


def _merged_tags_chunk(raw: str, new_raw: str, newline: str) -> str:
    try:
        old_tags = load(raw).get("tags")
        new_tags = load(new_raw).get("tags")
    except FrontMatterError:
        return raw  # the whole-block check reports it
    merged = merge_tags(old_tags, new_tags)
    if isinstance(old_tags, list) and merged == _tag_list(old_tags):
        return raw
    return as_newline(dump({"tags": merged}), newline) + _split_trivia(raw)[1]
