"""Property test of the note merge: random reader edits, then re-imports; nothing of the reader's is lost.

Each example renders a note, lets a reader edit it at random (text between and inside regions,
deleted, duplicated, re-hashed, broken and crossed regions, a region pasted from another note,
fenced fake markers, odd front matter, a BOM, CRLF and mixed endings, U+2028/NEL/form feed,
NFD text, no final newline), re-imports it with new input, re-imports again, then once more
after a new highlight. Fixed seed, bounded examples; the counts are printed.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault_export import frontmatter, regions, wrap
from vault_export.sync import merge_note, with_id

NAMES = ["quick-read", "eq-1", "eq-2", "ann-7Q2", "summary"]
GENERATED = {"title", "authors", "year", "tags", "studykit-id"}
EXAMPLES = 500


def render(version: int, names: list[str]) -> str:
    props = {"title": f"Paper v{version}", "authors": ["Doe, J"], "year": 2020 + version,
             "tags": ["paper", f"v{version}"], "studykit-id": "pdf:1"}
    body = "# Paper\n\n" + "".join(f"## {n}\n\n{wrap(n, f'> {n} v{version}' + chr(10) + f'- item ^ann-{i}')}\n\n"
                                   for i, n in enumerate(names)) + "## My notes\n\n- [ ] worth it?\n"
    return regions.seal(with_id("---\n" + frontmatter.dump(props) + "---\n" + body, "pdf:1"))


_piece = st.sampled_from(["a", "b ", "#", "- [ ] ", "`", "~", "%%", ">", ":", "\t", "\u2028", "\x85", "\x0c",
                          "e\u0301", "中", "^ann-1", "[[x]]", "\r"])
_text = st.lists(_piece, min_size=1, max_size=8).map("".join)
OPS = ["insert", "insert", "edit", "delete", "duplicate", "rehash", "foreign", "fence", "break", "cross",
       "eof", "crlf", "mixed", "bom", "fm-comment", "fm-after", "fm-blank", "fm-dup", "fm-tags", "fm-quoted",
       "fm-drop", "fm-empty", "fm-inline", "fm-in-list"]
_ops = st.lists(st.tuples(st.sampled_from(OPS), st.integers(min_value=0, max_value=10**6), _text), max_size=7)


def lines_of(text: str) -> list[str]:
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def edit(note: str, op: str, k: int, text: str) -> str:
    """`note` after one reader edit."""
    bom = "\ufeff" if note.startswith("\ufeff") else ""
    note = note[len(bom):]
    part = frontmatter.split(note)
    body, found = part.body, regions.parse(part.body).regions
    region = found[k % len(found)] if found else None
    lines = lines_of(body)
    at = sum(len(line) for line in lines[: k % (len(lines) + 1)])
    if op == "insert":
        body = body[:at] + text + "\n" + body[at:]
    elif op == "edit" and region:
        body = body[: region.content_end] + text + "\n" + body[region.content_end:]
    elif op == "delete" and region:
        body = body[: region.start] + body[region.end:]
    elif op == "duplicate" and region:
        body = body + "\n" + body[region.start : region.end]
    elif op == "rehash" and region and region.stored_hash:
        body = body[: region.content_end] + body[region.content_end : region.end].replace(region.stored_hash, "00000000") \
            + body[region.end:]
    elif op == "foreign":
        body = body[:at] + wrap(f"ann-other-{k % 3}", f"> pasted {text}") + "\n" + body[at:]
    elif op == "fence":
        body = body[:at] + "```md\n" + wrap(NAMES[k % len(NAMES)], "quoted") + "\n```\n" + body[at:]
    elif op == "break" and region:
        body = body[: region.content_end] + body[region.end:]
    elif op == "cross" and region:
        body = body[: region.content_end] + body[region.content_end : region.end].replace(
            f"end {region.name} ", f"end {NAMES[(k + 1) % len(NAMES)]} ") + body[region.end:]
    elif op == "eof":
        body = body.rstrip("\r\n")
    elif op == "crlf":
        return bom + note.replace("\r\n", "\n").replace("\n", "\r\n")
    elif op == "mixed":
        half = len(note) // 2
        return bom + note[:half].replace("\r\n", "\n").replace("\n", "\r\n") + note[half:]
    elif op == "bom":
        return "\ufeff" + note
    elif op == "fm-drop":
        part.open = part.close = part.yaml = ""
    elif part.open and op.startswith("fm-"):
        part.yaml = edit_properties(part.yaml, op, k)
    part.body = body
    return bom + part.join()


def edit_properties(yaml: str, op: str, k: int) -> str:
    lines = lines_of(yaml)
    at = k % (len(lines) + 1)
    title = next((i for i, line in enumerate(lines) if line.startswith("title:")), None)
    if op == "fm-comment":
        lines.insert(at, f"mine{k % 4}: value {k}  # my comment\n")
    elif op == "fm-after" and title is not None:
        lines.insert(title + 1, "# my comment on the title\n")
    elif op == "fm-blank" and title is not None:
        lines.insert(title + 1, "\n")
    elif op == "fm-dup":
        lines += ["mine: 1\n", "mine: 2\n"]
    elif op == "fm-tags":
        start = next((i for i, line in enumerate(lines) if line.startswith("tags:")), None)
        if start is not None:
            end = start + 1
            while end < len(lines) and lines[end].startswith(" "):
                end += 1
            lines[start:end] = ["tags:\n"]
    elif op == "fm-quoted":
        lines.insert(at, f'"my key {k % 3}": v\n')
    elif op == "fm-empty":
        lines = []
    elif op == "fm-inline" and title is not None:
        lines[title] = lines[title].rstrip("\r\n") + "  # my comment in a generated key\n"
    elif op == "fm-in-list" and lines and lines[-1].startswith("  - "):
        lines.insert(len(lines) - 1, "  # my comment inside a list\n")
    return "".join(lines)


def unbom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text


def cut(body: str, names: set[str]) -> str:
    """`body` without its well-formed regions named in `names`: what the merge must leave alone."""
    out, pos = [], 0
    for r in regions.parse(body).regions:
        if r.name in names:
            out.append(body[pos : r.start])
            pos = r.end
    return "".join(out) + body[pos:]


def same_but_line_breaks(a: str, b: str) -> bool:
    """The merge may add line breaks around the regions it inserts, nothing else."""
    squash = lambda s: s.replace("\r", "").replace("\n", "")  # noqa: E731
    return squash(a) == squash(b)


def check_reimport(before: str, rendered: str, known: set[str], counts: Counter) -> tuple[str, list[str]]:
    """Re-import `rendered` into the note `before`; assert what the reader depends on; return the note and known."""
    merged = merge_note(before, rendered, known=known)
    new = regions.rendered_regions(frontmatter.split(rendered).body)
    old_part, new_part = frontmatter.split(unbom(before)), frontmatter.split(unbom(merged.text))
    assert merged.text.startswith("\ufeff") == before.startswith("\ufeff")
    touched = set(new) | known

    # Every reader byte outside the regions studykit may touch survives, in order.
    assert same_but_line_breaks(cut(old_part.body, touched), cut(new_part.body, touched))
    old_parsed, new_parsed = regions.parse(old_part.body), regions.parse(new_part.body)
    # No region twice, no new broken markers; problems and edited regions kept and reported.
    assert set(new_parsed.problems) == set(old_parsed.problems)
    for name in old_parsed.problems:
        assert any(c.startswith(f"{name}: ") and c.endswith("left as it is") for c in merged.conflicts)
    kept = {r.name: r for r in new_parsed.regions}
    for r in old_parsed.regions:
        if r.edited(old_part.body) and r.name in touched:
            counts["edited regions"] += 1
            assert kept[r.name].content(new_part.body) == r.content(old_part.body)
            if r.name in new and regions.content_hash(new[r.name]) != r.stored_hash:
                assert any(c.startswith(f"{r.name}: you edited") for c in merged.conflicts)
        elif r.name in new:
            assert kept[r.name].content(new_part.body).replace("\r\n", "\n") == new[r.name]
        elif r.name not in known:
            counts["foreign regions kept"] += 1
            assert kept[r.name].content(new_part.body) == r.content(old_part.body)
    for name in new:
        if name not in known and name not in old_parsed.problems and name not in {r.name for r in old_parsed.regions}:
            if old_parsed.ends_in_code and f"{name}: not added: the note ends inside a code block that is never closed" \
                    in merged.conflicts:
                counts["regions held back by an open code block"] += 1
            else:
                counts["regions added"] += 1
                assert name in kept

    # Properties: kept byte for byte on a conflict; else the reader's keys and comments stay.
    fm_conflicts = [c for c in merged.conflicts if "properties left as they are" in c]
    if old_part.open and fm_conflicts:
        counts["front matter left as it is"] += 1
        counts["of which a comment in a generated key"] += any("holds a comment" in c for c in fm_conflicts)
        assert new_part.yaml == old_part.yaml
    elif old_part.open:
        old_values, new_values = frontmatter.load(old_part.yaml), frontmatter.load(new_part.yaml)
        for key, value in old_values.items():
            if str(key) not in GENERATED:
                assert new_values[key] == value
        assert all(line in lines_of(new_part.yaml) for line in lines_of(old_part.yaml) if line.startswith("#"))
        rendered_values = frontmatter.load(frontmatter.split(rendered).yaml)
        assert new_values["title"] == rendered_values["title"] and new_values["studykit-id"] == "pdf:1"
    else:
        counts["front matter restored"] += 1
        assert frontmatter.load(new_part.yaml)["studykit-id"] == "pdf:1"
    if merged.conflicts:
        counts["examples with conflicts"] += 1

    # A second re-import of the same input changes nothing.
    again = merge_note(merged.text, rendered, known=set(merged.regions.known))
    assert again.text == merged.text
    return merged.text, merged.regions.known


@pytest.mark.slow
def test_reimport_after_random_reader_edits_loses_nothing(capsys):
    counts: Counter = Counter()

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(ops=_ops, names=st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True))
    def run(ops, names):
        counts["examples"] += 1
        note = render(1, names)
        for op, k, text in ops:
            note = edit(note, op, k, text)
            counts[f"op {op}"] += 1
        note, known = check_reimport(note, render(2, names), set(names), counts)
        note, _ = check_reimport(note, render(3, [*names, "ann-new"]), set(known), counts)

    run()
    with capsys.disabled():
        print("\nmerge property:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    assert counts["examples"] == EXAMPLES
    for what in ("edited regions", "foreign regions kept", "regions added", "front matter left as it is",
                 "of which a comment in a generated key", "front matter restored", "examples with conflicts"):
        assert counts[what] >= 10, what  # the generator really reaches each case
