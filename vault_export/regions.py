"""Managed regions: the generated parts of a note, between Obsidian comments.

A region is written as

    %% studykit:begin NAME %%
    ...generated Markdown...
    %% studykit:end NAME 1a2b3c4d %%

Reading view hides the `%%` lines. The 8 hex digits are a short hash of the content as
studykit last wrote it; if the content no longer matches, the reader edited the region.
The hash ignores line endings, trailing spaces and blank lines at the ends, so a CRLF
conversion or a formatter plugin is not taken for an edit.

`wrap(name, content)` builds a region (no newline after the end marker); `seal(text)` recomputes
the end-marker hashes of a freshly rendered note; `merge(existing, rendered, ...)` refreshes a
note's regions: everything outside regions is kept byte for byte. The merge rules:

- region unedited (or `force`): its content is replaced by the rendered one, in the note's
  own line endings;
- region edited by the reader: kept; a conflict is reported only when the rendered content
  differs from what studykit last wrote (the reader misses an update);
- region no longer rendered: removed only when this note's record (`known`) says studykit wrote
  it and it is unedited; edited, it is kept and reported; a region studykit never wrote here (pasted
  from another note, say) is the reader's text and stays as it is;
- region rendered but absent from the note: if its name is in `known` (studykit wrote it
  before), the reader deleted it and it stays deleted; otherwise it is new and is inserted
  after the nearest preceding region of the rendered note that the note has (or before the
  nearest following one, or at the end), separated by a blank line;
- broken markers (begin without end, duplicated names, nesting): that region's text is left
  exactly as it is and reported.

Markers count only where studykit writes them: at the start of a line (at most 3 spaces in, as
CommonMark allows), outside fenced code blocks, so a reader quoting a note in ``` is not a region.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from vault_export.frontmatter import as_newline

# A marker line, or a line that opens or closes a fenced code block (CommonMark: up to 3 spaces in),
# with its line ending.
_LINE = re.compile(
    r"^ {0,3}(?:%% studykit:(?P<kind>begin|end) (?P<name>\S+?)(?: (?P<digest>[0-9a-f]{8}))? %%[ \t]*(?P<cr>\r?)"
    r"|(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*))(?:\n|\Z)",
    re.M,
)
_NAME = re.compile(r"^[^\s%]+$")


def begin_marker(name: str) -> str:
    return f"%% studykit:begin {name} %%"


def end_marker(name: str, digest: str) -> str:
    return f"%% studykit:end {name} {digest} %%"


def content_hash(content: str) -> str:
    """8 hex digits identifying `content` up to line endings and trailing whitespace."""
    lines = [line.rstrip() for line in content.split("\n")]  # rstrip takes a CRLF's \r too
    canonical = "\n".join(lines).strip("\n")
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def wrap(name: str, content: str) -> str:
    """`content` as the managed region `name`, ending with the end marker (no final newline)."""
    if not _NAME.match(name):
        raise ValueError(f"region name {name!r}: use letters, digits and punctuation other than %, no spaces")
    if content and not content.endswith("\n"):
        content += "\n"
    return f"{begin_marker(name)}\n{content}{end_marker(name, content_hash(content))}"


@dataclass
class ManagedRegion:
    """One well-formed region found in a note; offsets index the note's text."""

    name: str
    start: int  # start of the begin-marker line
    content_start: int  # just after the begin-marker line
    content_end: int  # start of the end-marker line
    marker_stop: int  # just after the end marker, before its line ending
    end: int  # just after the end-marker line and its line ending
    stored_hash: str | None  # the hash in the end marker, None if missing
    newline: str  # line ending of the begin-marker line

    def content(self, text: str) -> str:
        return text[self.content_start : self.content_end]

    def edited(self, text: str) -> bool:
        return self.stored_hash != content_hash(self.content(text))

    def end_line_ending(self, text: str) -> str:
        return text[self.marker_stop : self.end]


@dataclass
class Parsed:
    regions: list[ManagedRegion]
    problems: dict[str, str]  # region name -> what is wrong with its markers
    ends_in_code: bool = False  # the text ends inside a fenced code block that is never closed


_NO_END = "begin marker without an end marker"


def _markers(text: str) -> tuple[list[re.Match], bool]:
    """The marker matches of `text` outside fenced code blocks, and whether `text` ends inside one."""
    found: list[re.Match] = []
    fence: str | None = None  # the opening fence's run of ` or ~ while inside a block
    for m in _LINE.finditer(text):
        run = m["fence"]
        if run is None:
            if fence is None:
                found.append(m)
        elif fence is None:
            if not (run.startswith("`") and "`" in m["info"]):  # a backtick fence's info has no backtick
                fence = run
        elif run[:1] == fence[:1] and len(run) >= len(fence) and not m["info"].strip():
            fence = None
    return found, fence is not None


def parse(text: str) -> Parsed:
    """The well-formed regions of `text`, in order, and the names whose markers are broken."""
    regions: list[ManagedRegion] = []
    problems: dict[str, str] = {}
    open_: tuple[str, int, int, str] | None = None  # name, start, content_start, newline of the open region
    markers, ends_in_code = _markers(text)
    for m in markers:
        kind, name, digest = m["kind"], m["name"], m["digest"]
        if kind == "begin":
            if open_ is not None:
                problems.setdefault(open_[0], _NO_END)
            open_ = (name, m.start(), m.end(), m["cr"] + "\n")
        elif open_ is None or open_[0] != name:
            if open_ is not None:
                problems.setdefault(open_[0], _NO_END)
                open_ = None
            problems.setdefault(name, "end marker without a begin marker")
        else:
            regions.append(ManagedRegion(name, open_[1], open_[2], m.start(), m.start("cr"), m.end(), digest, open_[3]))
            open_ = None
    if open_ is not None:
        problems.setdefault(open_[0], _NO_END)
    seen: set[str] = set()
    for region in regions:
        if region.name in seen:
            problems[region.name] = "the note has this region more than once"
        seen.add(region.name)
    return Parsed([r for r in regions if r.name not in problems], problems, ends_in_code)


def _region_text(name: str, content: str, newline: str) -> str:
    content = as_newline(content, newline)
    return f"{begin_marker(name)}{newline}{content}{end_marker(name, content_hash(content))}"


def rendered_regions(rendered: str) -> dict[str, str]:
    """name -> content of each region of a freshly rendered note, which must be well formed."""
    parsed = parse(rendered)
    if parsed.problems:
        name, problem = next(iter(parsed.problems.items()))
        raise ValueError(f"rendered note: region {name!r}: {problem}")
    return {r.name: r.content(rendered) for r in parsed.regions}


def seal(rendered: str) -> str:
    """`rendered` with every end marker carrying the hash of its region's content."""
    parsed = parse(rendered)
    if parsed.problems:
        name, problem = next(iter(parsed.problems.items()))
        raise ValueError(f"rendered note: region {name!r}: {problem}")
    out, pos = [], 0
    for r in parsed.regions:
        out += [rendered[pos : r.content_end], end_marker(r.name, content_hash(r.content(rendered)))]
        pos = r.marker_stop
    out.append(rendered[pos:])
    return "".join(out)


@dataclass
class RegionMerge:
    text: str = ""
    conflicts: list[str] = field(default_factory=list)  # "NAME: why it was kept"
    added: list[str] = field(default_factory=list)  # regions new to the note
    removed: list[str] = field(default_factory=list)  # regions no longer rendered, taken out
    deleted_by_reader: list[str] = field(default_factory=list)  # rendered, but the reader deleted them
    known: list[str] = field(default_factory=list)  # names to pass as `known` next time


def merge(existing: str, rendered: str, *, force: bool = False, known: set[str] | frozenset[str] | None = None) -> RegionMerge:
    """Refresh `existing`'s regions from `rendered`; `known`: region names studykit wrote before."""
    new = rendered_regions(rendered)
    parsed = parse(existing)
    result = RegionMerge()
    for name, problem in parsed.problems.items():
        result.conflicts.append(f"{name}: {problem}; left as it is")

    wrote = set(known or ())  # what this note's record says studykit wrote into it
    ours: set[str] = set()  # regions of the merged note that studykit wrote
    texts: dict[str, str] = {}  # kept region -> its text in the merged note
    for r in parsed.regions:
        text = existing[r.start : r.end]
        edited = r.edited(existing)
        if r.name in new:
            ours.add(r.name)
            fresh_hash = content_hash(new[r.name])
            if not edited or force:
                text = _region_text(r.name, new[r.name], r.newline) + r.end_line_ending(existing)
            elif content_hash(r.content(existing)) == fresh_hash:  # the reader typed what we would write
                text = existing[r.start : r.content_end] + end_marker(r.name, fresh_hash) + r.end_line_ending(existing)
            elif fresh_hash != r.stored_hash:
                result.conflicts.append(f"{r.name}: you edited this region; kept (--force overwrites it)")
        elif r.name in wrote:
            if not edited or force:
                result.removed.append(r.name)
                continue
            ours.add(r.name)
            result.conflicts.append(f"{r.name}: no longer generated, but you edited it; kept")
        texts[r.name] = text

    # Where each new region goes: after a kept region, before one, or at the end.
    after: dict[str, list[str]] = {}
    before: dict[str, list[str]] = {}
    tail: list[str] = []
    placed: dict[str, list[str]] = {}  # new region -> the list it went into
    order = list(new)
    for i, name in enumerate(order):
        if name in texts or name in parsed.problems:
            continue
        if known is not None and name in known:
            result.deleted_by_reader.append(name)
            continue
        prev = next((n for n in reversed(order[:i]) if n in texts or n in placed), None)
        if prev in texts:
            target = after.setdefault(prev, [])
        elif prev is not None:
            target = placed[prev]
        else:
            nxt = next((n for n in order[i + 1 :] if n in texts), None)
            target = before.setdefault(nxt, []) if nxt else tail
        if target is tail and parsed.ends_in_code:  # appended there, it would be code, not a region
            result.conflicts.append(f"{name}: not added: the note ends inside a code block that is never closed")
            continue
        result.added.append(name)
        target.append(name)
        placed[name] = target

    out: list[str] = []
    pos = 0
    for r in parsed.regions:
        out.append(existing[pos : r.start])
        pos = r.end
        if r.name not in texts:
            continue
        nl = r.newline
        out += [_region_text(n, new[n], nl) + nl + nl for n in before.get(r.name, ())]
        out.append(texts[r.name])
        if after.get(r.name):
            if not r.end_line_ending(existing):
                out.append(nl)
            out += [nl + _region_text(n, new[n], nl) + nl for n in after[r.name]]
    out.append(existing[pos:])
    if tail:
        nl = "\r\n" if "\r\n" in existing else "\n"
        if existing and not existing.endswith("\n"):
            out.append(nl)
        out += [nl + _region_text(n, new[n], nl) + nl for n in tail]
    result.text = "".join(out)
    result.known = sorted({*ours, *placed, *result.deleted_by_reader, *(set(parsed.problems) & (wrote | set(new)))})
    return result
