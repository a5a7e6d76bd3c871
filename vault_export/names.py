"""File names that are safe in an Obsidian vault on every OS, and never leave the vault.

`note_filename(citekey=..., first_author=..., year=..., title=...)` gives a note's stem (no
".md"): the citation key, else "FirstAuthor Year - Title". `safe_filename(name)` cleans any
single path component (attachments too). Both replace what Obsidian links or Windows forbid
(/ \\ : * ? " < > | # ^ [ ] and control characters), avoid DOS device names (CON, NUL, COM1,
...), trim trailing dots and spaces, bound the length in UTF-8 bytes and never return "".
A result is one component: no separator, no "..", no leading dot, so it cannot escape.
"""

from __future__ import annotations

import re
import unicodedata

NOTE_STEM_MAX_BYTES = 120  # leaves room for " 2.md" and a deep folder under Windows' 260
FILENAME_MAX_BYTES = 200  # most file systems allow 255 bytes per component

_REPLACEMENTS = {":": " - ", "/": "-", "\\": "-", '"': "'", "|": "-"}
_FORBIDDEN = set('*?<>#^[]')
# Bidi overrides can make "gpj.exe" look like "exe.jpg"; they never belong in a file name.
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}$")
_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "da", "di", "du", "la", "le", "ter", "ten", "dos", "das", "bin", "al"}


def _clean(text: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in _REPLACEMENTS:
            out.append(_REPLACEMENTS[ch])
        elif ch in _FORBIDDEN or ch.isspace():
            out.append(" ")
        elif ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
            continue
        else:
            out.append(ch)
    text = re.sub(r"\s+", " ", "".join(out))
    # A leading dot hides the file from Obsidian; leading dashes are what is left of "../".
    return text.lstrip(" .-").rstrip(" .-")


def _cut(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` within `max_bytes` UTF-8 bytes, at a word end when one is near."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    cut = raw[:max_bytes].decode("utf-8", errors="ignore")
    space = cut.rfind(" ")
    if space > len(cut) * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" .-,;")


def _not_reserved(stem: str) -> str:
    # Windows reserves the device name before the first dot too: "nul.txt.md" is NUL.
    first, dot, rest = stem.partition(".")
    if first.rstrip(" ").upper() in _RESERVED:
        return f"{first}_{dot}{rest}"
    return stem


def safe_filename(name: str, *, max_bytes: int = FILENAME_MAX_BYTES, default: str = "Untitled") -> str:
    """One safe path component for `name`, keeping a short extension such as ".png"."""
    name = _clean(str(name))
    match = _SUFFIX.search(name)
    suffix = match.group(0) if match and match.start() > 0 else ""
    stem = name[: len(name) - len(suffix)].rstrip(" .")
    stem = _cut(stem, max_bytes - len(suffix.encode("utf-8"))) or default
    return _not_reserved(stem) + suffix


def surname(author: str) -> str:
    """The family name in "Last, First" or "First [particles] Last" form; CJK names stay whole."""
    author = " ".join(str(author).split())
    if "," in author:
        return author.split(",", 1)[0].strip()
    words = author.split(" ")
    last = len(words) - 1
    while last > 0 and words[last - 1].lower() in _PARTICLES:
        last -= 1
    return " ".join(words[last:])


def note_filename(*, citekey: str = "", first_author: str = "", year: int | str | None = None, title: str = "") -> str:
    """The note's file stem, without ".md": the citation key, else "FirstAuthor Year - Title"."""
    key = _clean(citekey or "")
    if key:
        return _not_reserved(_cut(key, NOTE_STEM_MAX_BYTES)) or "Untitled"
    head = " ".join(part for part in (_clean(surname(first_author or "")), _clean(str(year or ""))) if part)
    title = _clean(title or "")
    stem = f"{head} - {title}" if head and title else head or title
    stem = _cut(stem, NOTE_STEM_MAX_BYTES)
    return _not_reserved(stem) if stem else "Untitled"
