"""The vault's settings: `<vault>/studykit.toml`, every key optional."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from studykit.errors import UserError
from studykit.model import Category

CONFIG_NAME = "studykit.toml"
CATEGORIES = tuple(c.value for c in Category if c is not Category.UNCATEGORIZED)


@dataclass
class Config:
    """Settings with their defaults; `path` is the file they came from, if any."""

    papers_folder: str = "Papers"
    templates_dir: Path | None = None
    direction: str = "classification"
    taxonomy_threshold: float | None = None  # None: the taxonomy's default
    taxonomy_colors: dict[str, list[str]] = field(default_factory=dict)  # category -> ["#rrggbb", ...]
    taxonomy_names: dict[str, str] = field(default_factory=dict)  # category -> display name
    path: Path | None = None


def load_config(vault: Path | None) -> Config:
    """Read `<vault>/studykit.toml` when there is one; defaults otherwise."""
    if vault is None:
        return Config()
    path = Path(vault) / CONFIG_NAME
    if not path.is_file():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    return _parse(data, path)


def _parse(data: dict, path: Path) -> Config:
    def bad(key: str, what: str) -> UserError:
        return UserError(f"{path}: {key}: {what}")

    config = Config(path=path)
    taxonomy = data.pop("taxonomy", {})
    for key, value in data.items():
        if key in ("papers_folder", "direction"):
            if not isinstance(value, str) or not value.strip():
                raise bad(key, "expected a non-empty string")
            setattr(config, key, value)
        elif key == "templates_dir":
            if not isinstance(value, str) or not value.strip():
                raise bad(key, "expected a folder path")
            folder = Path(value).expanduser()
            config.templates_dir = folder if folder.is_absolute() else path.parent / folder
        else:
            raise bad(key, "unknown key")
    if not isinstance(taxonomy, dict):
        raise bad("taxonomy", "expected a table [taxonomy]")
    for key, value in taxonomy.items():
        if key == "threshold":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise bad("taxonomy.threshold", "expected a positive number (CIELAB distance)")
            config.taxonomy_threshold = float(value)
        elif key == "colors":
            config.taxonomy_colors = _colors(value, bad)
        elif key == "names":
            config.taxonomy_names = _names(value, bad)
        else:
            raise bad(f"taxonomy.{key}", "unknown key")
    return config


def _colors(table, bad) -> dict[str, list[str]]:
    from studykit.taxonomy import normalize_hex

    if not isinstance(table, dict):
        raise bad("taxonomy.colors", "expected a table of category = [\"#rrggbb\", ...]")
    colors = {}
    for category, value in table.items():
        key = f"taxonomy.colors.{category}"
        if category not in CATEGORIES:
            raise bad(key, f"unknown category (one of {', '.join(CATEGORIES)})")
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad(key, "expected a list of \"#rrggbb\" colours")
        try:
            colors[category] = [normalize_hex(v) for v in value]
        except ValueError as exc:
            raise bad(key, str(exc)) from None
    return colors


def _names(table, bad) -> dict[str, str]:
    if not isinstance(table, dict):
        raise bad("taxonomy.names", "expected a table of category = \"display name\"")
    for category, value in table.items():
        key = f"taxonomy.names.{category}"
        if category not in CATEGORIES:
            raise bad(key, f"unknown category (one of {', '.join(CATEGORIES)})")
        if not isinstance(value, str) or not value.strip():
            raise bad(key, "expected a non-empty string")
    return dict(table)
