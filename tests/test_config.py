"""studykit.toml: defaults, every key read, and one clear line for a bad key or value."""

from __future__ import annotations

from pathlib import Path

import pytest

from studykit.config import Config, load_config
from studykit.errors import UserError


def _vault(tmp_path, text: str) -> Path:
    (tmp_path / "studykit.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_defaults_without_a_vault_or_a_file(tmp_path):
    for config in (load_config(None), load_config(tmp_path)):
        assert config == Config()
        assert (config.papers_folder, config.templates_dir, config.direction) == ("Papers", None, "classification")


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
    ("[taxonomy]\nthresold = 10", "taxonomy.thresold: unknown key"),
    ("[taxonomy.colors]\nquestion = ['#12345']", "taxonomy.colors.question: not a hex colour"),
    ("[taxonomy.colors]\nquestions = ['#123456']", "taxonomy.colors.questions: unknown category"),
    ("[taxonomy.names]\nresult = ''", "taxonomy.names.result: expected a non-empty string"),
    ("papers_folder = ", "not valid TOML"),
])
def test_bad_keys_and_values_name_the_file_and_the_key(tmp_path, text, key):
    vault = _vault(tmp_path, text)
    with pytest.raises(UserError) as info:
        load_config(vault)
    message = str(info.value)
    assert message.startswith(f"{vault / 'studykit.toml'}: ") and key in message
