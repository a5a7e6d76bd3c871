"""The vault's settings: `<vault>/studykit.toml`, every key optional."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from studykit.errors import UserError
from studykit.model import Category

CONFIG_NAME = "studykit.toml"
CATEGORIES = tuple(c.value for c in Category if c is not Category.UNCATEGORIZED)
PdfAttach = Literal["copy", "link", "zotero"]
NoteDetail = Literal["lean", "full"]
PDF_ATTACH: tuple[PdfAttach, ...] = ("copy", "link", "zotero")
NOTE_DETAIL: tuple[NoteDetail, ...] = ("lean", "full")


@dataclass(frozen=True)
class Checklist:
    """`[checklists.NAME]`: a direction's checklist; a key left out keeps the built-in direction's value."""

    title: str | None = None
    field_tag: str | None = None
    items: tuple[str, ...] | None = None


@dataclass
class Config:
    """Settings with their defaults; `path` is the file they came from, if any."""

    papers_folder: str = "Papers"
    templates_dir: Path | None = None
    direction: str = "general"
    pdf_attach: PdfAttach = "copy"  # how a PDF outside the vault gets in: copied, hard-linked, or via zotero://
    note_detail: NoteDetail = "lean"  # "full": every equation's shape diagram and Mermaid flow too
    checklists: dict[str, Checklist] = field(default_factory=dict)  # direction key -> the vault's own list
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
    config.checklists = _checklists(data.pop("checklists", {}), bad)
    for key, value in data.items():
        if key == "papers_folder":
            config.papers_folder = _text(value, key, bad)
        elif key == "direction":
            config.direction = _text(value, key, bad).strip().lower()
        elif key == "pdf_attach":
            config.pdf_attach = _choice(value, key, PDF_ATTACH, bad)
        elif key == "note_detail":
            config.note_detail = _choice(value, key, NOTE_DETAIL, bad)
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
            # TOML also has nan and inf; neither is a distance.
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
                raise bad("taxonomy.threshold", "expected a positive number (CIELAB distance)")
            config.taxonomy_threshold = float(value)
        elif key == "colors":
            config.taxonomy_colors = _colors(value, bad)
        elif key == "names":
            config.taxonomy_names = _names(value, bad)
        else:
            raise bad(f"taxonomy.{key}", "unknown key")
    _known_direction(config, bad)
    return config


def _text(value, key: str, bad) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad(key, "expected a non-empty string")
    return value


def _choice(value, key: str, choices: tuple[str, ...], bad):
    if value not in choices:
        raise bad(key, f"expected one of {', '.join(map(repr, choices))}")
    return value


def _checklists(table, bad) -> dict[str, Checklist]:
    if not isinstance(table, dict):
        raise bad("checklists", "expected tables [checklists.NAME] with title, field_tag and items")
    out = {}
    for name, entry in table.items():
        key = f"checklists.{name}"
        if not isinstance(entry, dict):
            raise bad(key, "expected a table with title, field_tag and items")
        unknown = set(entry) - {"title", "field_tag", "items"}
        if unknown:
            raise bad(f"{key}.{sorted(unknown)[0]}", "unknown key (title, field_tag, items)")
        items = entry.get("items")
        if items is not None and (not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items)):
            raise bad(f"{key}.items", "expected a list of questions (strings)")
        title, tag = entry.get("title"), entry.get("field_tag")
        for what, value in (("title", title), ("field_tag", tag)):
            if value is not None and not isinstance(value, str):
                raise bad(f"{key}.{what}", "expected a string")
        out[name.strip().lower()] = Checklist(title, tag, tuple(items) if items is not None else None)
    return out


def _known_direction(config: Config, bad) -> None:
    from studykit.directions import DIRECTIONS

    if config.direction not in DIRECTIONS and config.direction not in config.checklists:
        known = ", ".join([*DIRECTIONS, *config.checklists])
        raise bad("direction", f"unknown direction {config.direction!r}; known: {known}")


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
