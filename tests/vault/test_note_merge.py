"""merge_note and with_id: one note's properties and regions refreshed together."""

import pytest

from vault_export import frontmatter, wrap
from vault_export.sync import merge_note, with_id

PROPS = frontmatter.dump({"title": "ViT", "year": 2020, "tags": ["paper"], "studykit-id": "pdf:1"})
RENDERED = "---\n" + PROPS + "---\n# ViT\n\n" + wrap("quick-read", "Q2") + "\n"


def test_with_id_adds_the_id_where_it_is_missing():
    assert with_id("body\n", "pdf:1") == "---\nstudykit-id: pdf:1\n---\nbody\n"
    assert with_id("---\ntitle: t\n---\nbody\n", "pdf:1") == "---\ntitle: t\nstudykit-id: pdf:1\n---\nbody\n"
    assert with_id("---\r\ntitle: t\r\n---\r\nbody\r\n", "pdf:1") == "---\r\ntitle: t\r\nstudykit-id: pdf:1\r\n---\r\nbody\r\n"
    assert with_id("---\n---\nbody\n", "pdf:1") == "---\nstudykit-id: pdf:1\n---\nbody\n"
    same = '---\nstudykit-id: "pdf:1"\n---\nbody\n'
    assert with_id(same, "pdf:1") == same


def test_with_id_refuses_a_rendered_note_carrying_another_id():
    # Issue 16: a rendered note with a different studykit-id was accepted.
    with pytest.raises(ValueError, match=r"^rendered note has studykit-id 'pdf:2', expected 'pdf:1'$"):
        with_id("---\nstudykit-id: pdf:2\n---\nbody\n", "pdf:1")


def test_a_note_whose_front_matter_the_reader_deleted_gets_it_back_fenced():
    # Issue 16: it got bare YAML lines, without --- fences, above the reader's text.
    existing = "# ViT\n\n" + wrap("quick-read", "Q1") + "\n\nmy notes\n"
    merged = merge_note(existing, RENDERED)
    assert merged.text == "---\n" + PROPS + "---\n# ViT\n\n" + wrap("quick-read", "Q2") + "\n\nmy notes\n"
    assert not merged.conflicts
    crlf = merge_note(existing.replace("\n", "\r\n"), RENDERED)
    assert crlf.text == merged.text.replace("\n", "\r\n")


def test_properties_and_regions_are_merged_and_conflicts_named():
    existing = "---\nmine: 1\ntitle: old\n---\n# ViT\n\n" + wrap("quick-read", "Q1").replace("Q1\n", "Q1 edited\n") + "\n"
    merged = merge_note(existing, RENDERED, name="Papers/ViT.md")
    assert merged.text.startswith("---\nmine: 1\ntitle: ViT\nyear: 2020\n")
    assert "Q1 edited" in merged.text and merged.conflicts == [
        "quick-read: you edited this region; kept (--force overwrites it)"]
    assert merged.regions.known == ["quick-read"]
    forced = merge_note(existing, RENDERED, force=True)
    assert "Q2" in forced.text and not forced.conflicts
    broken = "---\ntitle: [x\n---\nbody\n"
    kept = merge_note(broken, RENDERED, name="Papers/ViT.md")
    assert kept.text.startswith(broken) and kept.conflicts == [
        "Papers/ViT.md: front matter is not valid YAML (line 3); properties left as they are"]


def test_generated_keys_always_include_the_id():
    existing = "---\nstudykit-id: pdf:old\nyear: 1999\n---\nbody\n"
    merged = merge_note(existing, RENDERED, generated_keys={"title"})
    values = frontmatter.load(frontmatter.split(merged.text).yaml)
    assert values["studykit-id"] == "pdf:1" and values["year"] == 1999 and values["title"] == "ViT"
    assert merge_note("no properties\n", "# just a body\n").text == "no properties\n"


def test_a_byte_order_mark_stays_first_and_the_properties_are_still_found():
    existing = "\ufeff---\nmine: 1\ntitle: old\n---\n# ViT\n\n" + wrap("quick-read", "Q1") + "\n"
    merged = merge_note(existing, RENDERED)
    assert merged.text == "\ufeff---\nmine: 1\ntitle: ViT\nyear: 2020\ntags:\n  - paper\nstudykit-id: pdf:1\n---\n# ViT\n\n" \
        + wrap("quick-read", "Q2") + "\n"
    assert merge_note("\ufeffmy text\n", RENDERED).text.startswith("\ufeff---\ntitle: ViT\n")


def test_known_and_the_default_name_reach_the_merges():
    deleted = "---\nstudykit-id: pdf:1\n---\n# ViT\n\nI deleted the region\n"
    kept = merge_note(deleted, RENDERED, known={"quick-read"})
    assert kept.text.endswith("\n# ViT\n\nI deleted the region\n") and kept.regions.deleted_by_reader == ["quick-read"]
    added = merge_note(deleted, RENDERED, known=set())
    assert added.regions.added == ["quick-read"] and wrap("quick-read", "Q2") in added.text
    assert merge_note("---\ntitle: [x\n---\n", RENDERED).conflicts == [
        "note: front matter is not valid YAML (line 3); properties left as they are"]


def test_a_rendering_without_properties_leaves_the_notes_alone():
    existing = "---\ntitle: mine\ndoi: 10.1/x\n---\nbody\n"
    merged = merge_note(existing, "# body only\n", generated_keys={"title", "doi"})
    assert merged.text == existing and merged.conflicts == []
    assert merge_note("just text\n", "# body only\n" + wrap("a", "A") + "\n").text == "just text\n\n" + wrap("a", "A") + "\n"
