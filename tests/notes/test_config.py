"""studykit.toml: defaults, every key read, and one clear line for a bad key or value."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from locations import REPO
from studykit.config import Checklist, Config, load_config
from studykit.directions import DIRECTIONS, direction
from studykit.errors import UserError


def _vault(tmp_path, text: str) -> Path:
    (tmp_path / "studykit.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_defaults_without_a_vault_or_a_file(tmp_path):
    for config in (load_config(None), load_config(tmp_path)):
        assert config == Config()
        assert (config.papers_folder, config.templates_dir, config.direction) == ("Papers", None, "general")
        assert (config.pdf_attach, config.note_detail, config.checklists) == ("copy", "lean", {})


def test_every_key_is_read(tmp_path):
    vault = _vault(tmp_path, """
papers_folder = "Reading/Papers"
templates_dir = "_templates"
direction = "detection"

[taxonomy]
threshold = 15

[taxonomy.colors]
question = ["#00FFFF", "#e56eee"]
definition = "#ff0"

[taxonomy.names]
question = "疑问 Question"
""")
    config = load_config(vault)
    assert config.papers_folder == "Reading/Papers" and config.direction == "detection"
    assert config.templates_dir == vault / "_templates"
    assert config.taxonomy_threshold == 15.0
    assert config.taxonomy_colors == {"question": ["#00ffff", "#e56eee"], "definition": ["#ffff00"]}
    assert config.taxonomy_names == {"question": "疑问 Question"}
    assert config.path == vault / "studykit.toml"


@pytest.mark.parametrize("text, key", [
    ("paper_folder = 'x'", "paper_folder: unknown key"),
    ("papers_folder = 3", "papers_folder: expected a non-empty string"),
    ("[taxonomy]\nthreshold = -1", "taxonomy.threshold: expected a positive number"),
    ("[taxonomy]\nthreshold = 'far'", "taxonomy.threshold"),
    ("[taxonomy]\nthreshold = nan", "taxonomy.threshold: expected a positive number"),
    ("[taxonomy]\nthreshold = inf", "taxonomy.threshold: expected a positive number"),
    ("[taxonomy]\nthresold = 10", "taxonomy.thresold: unknown key"),
    ("[taxonomy.colors]\nquestion = ['#12345']", "taxonomy.colors.question: not a hex colour"),
    ("[taxonomy.colors]\nquestions = ['#123456']", "taxonomy.colors.questions: unknown category"),
    ("[taxonomy.names]\nresult = ''", "taxonomy.names.result: expected a non-empty string"),
    ("papers_folder = ", "not valid TOML"),
    ("pdf_attach = 'move'", "pdf_attach: expected one of 'copy', 'link', 'zotero'"),
    ("note_detail = 'tiny'", "note_detail: expected one of 'lean', 'full'"),
    ("direction = 'mine'", "direction: unknown direction 'mine'"),
    ("checklists = 3", "checklists: expected tables"),
    ("[checklists.mine]\nitems = 'one'", "checklists.mine.items: expected a list of questions"),
    ("[checklists.mine]\nitems = ['']", "checklists.mine.items: expected a list of questions"),
    ("[checklists.mine]\ntitel = 'x'", "checklists.mine.titel: unknown key"),
    ("[checklists.mine]\ntitle = 3", "checklists.mine.title: expected a string"),
])
def test_bad_keys_and_values_name_the_file_and_the_key(tmp_path, text, key):
    vault = _vault(tmp_path, text)
    with pytest.raises(UserError) as info:
        load_config(vault)
    message = str(info.value)
    assert message.startswith(f"{vault / 'studykit.toml'}: ") and key in message


def test_checklists_attach_mode_and_note_detail_are_read(tmp_path):
    vault = _vault(tmp_path, """
direction = "Robot-Hands"
pdf_attach = "link"
note_detail = "full"

[checklists.robot-hands]
title = "🦾 灵巧手 (Dexterous hands)"
field_tag = "robotics/hands"
items = ["How many degrees of freedom?", "Tactile sensing?"]

[checklists.detection]
items = ["Only my question"]
""")
    config = load_config(vault)
    assert config.direction == "robot-hands" and config.pdf_attach == "link" and config.note_detail == "full"
    assert config.checklists == {
        "robot-hands": Checklist("🦾 灵巧手 (Dexterous hands)", "robotics/hands",
                                 ("How many degrees of freedom?", "Tactile sensing?")),
        "detection": Checklist(None, None, ("Only my question",)),
    }
    chosen = direction(config)
    assert (chosen.title, chosen.field_tag, chosen.items[0]) == ("🦾 灵巧手 (Dexterous hands)", "robotics/hands",
                                                                 "How many degrees of freedom?")


def test_the_default_direction_is_general_and_untagged():
    chosen = direction(Config())
    assert chosen.key == "general" and chosen.field_tag == ""
    assert not any("JFT-300M" in item or "Patch Size" in item for d in DIRECTIONS.values() for item in d.items)


def _readme_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    lines = readme.splitlines()
    start = next(n for n, line in enumerate(lines) if "studykit.toml` (all keys optional)" in line)
    block = []
    for line in lines[start + 1:]:
        if block and not line.startswith("    ") and line.strip():
            break
        if line.startswith("    ") or (block and not line.strip()):
            block.append(line[4:])
    return "\n".join(block)


def test_every_key_of_the_readme_example_loads(tmp_path):
    example = _readme_example()
    assert "papers_folder" in example and "[taxonomy]" in example
    config = load_config(_vault(tmp_path, example))
    data = tomllib.loads(example)
    for key in set(data) - {"taxonomy", "checklists"}:  # each documented top-level key took effect
        assert getattr(config, key) != getattr(Config(), key) or data[key] == getattr(Config(), key), key
    for name in data.get("checklists", {}):
        assert name in config.checklists
