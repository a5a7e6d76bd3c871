"""Front matter of plain values written straight to text, byte for byte as `frontmatter.dump` writes it.

PyYAML's pure-Python emitter costs about a third of a millisecond for a paper note's properties,
a tenth of a re-sync that renders every note. The properties studykit renders are strings, whole
numbers, dates and lists of strings; `dump_simple` writes those the way PyYAML's emitter decides
(yaml/emitter.py, `analyze_scalar` and `choose_scalar_style`), for single-line printable ASCII, and
returns None for anything else (other types, other characters, a list given twice, which PyYAML
writes as an anchor), which the caller then hands to PyYAML.
"""

from __future__ import annotations

import datetime as _dt
import re

import yaml

_ASCII_LINE = re.compile(r"[\x20-\x7e]+")
_START_INDICATORS = "#,[]{}&*!|>'\"%@`"
_STR = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()  # the implicit types SafeDumper checks a plain scalar against


def dump_simple(mapping: dict) -> str | None:
    """`frontmatter.dump(mapping)` for keys and values it can write directly; None for any other mapping."""
    out = []
    lists: set[int] = set()
    for key, value in mapping.items():
        name = _string(key) if type(key) is str and len(key) < 128 else None  # longer keys become "? key"
        if name is None:
            return None
        if type(value) is list:
            items = [_string(item) if type(item) is str else None for item in value]
            if not items or None in items or id(value) in lists:
                return None
            lists.add(id(value))
            out.append(f"{name}:\n" + "".join(f"  - {item}\n" for item in items))
            continue
        if type(value) is str:
            text = _string(value)
        elif type(value) is int or type(value) is _dt.date:  # not bool, not datetime
            text = str(value) if type(value) is int else value.isoformat()
        else:
            text = None
        if text is None:
            return None
        out.append(f"{name}: {text}\n")
    return "".join(out)


def _string(text: str) -> str | None:
    """`text` as PyYAML writes it with frontmatter's string style; None unless it is one line of printable ASCII."""
    if not _ASCII_LINE.fullmatch(text):
        return None
    if "[[" in text or "://" in text or text.startswith("#") or text != text.strip():  # frontmatter._represent_str
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if _plain(text) and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR:
        return text
    return "'" + text.replace("'", "''") + "'"


def _plain(text: str) -> bool:
    """Whether a one-line ASCII string with no space at either end may be written unquoted in block context."""
    if text.startswith(("---", "...")) or text[0] in _START_INDICATORS:
        return False
    if text[0] in "?:-" and (len(text) == 1 or text[1] == " "):
        return False
    return ": " not in text and not text.endswith(":") and " #" not in text
