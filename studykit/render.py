"""Render the note templates with Jinja: the package's own, or the reader's override from the vault.

Templates are read from two places only, by plain names (one file name: no folder, no "..",
no absolute path): the reader's folder inside the vault (`templates_dir` in studykit.toml, else
`<vault>/.studykit/templates/`) and the templates shipped in the package. The reader's win,
render in Jinja's sandbox and may `{% include %}` or extend a shipped one by its name; nothing
else on the disk can be read into a note. A `templates_dir` outside the vault is refused.
Every template renders with StrictUndefined, and an error names the template, the line and
what was missing.
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import re
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from studykit.errors import UserError
from vault_export import frontmatter

if TYPE_CHECKING:
    from studykit.config import Config

USER_TEMPLATES = Path(".studykit") / "templates"
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")


def render(template_name: str, context: dict, *, vault=None, config: Config | None = None) -> str:
    """Render `template_name` with `context`; the reader's copy in the vault is used when there is one."""
    folder = next((f for f in template_folders(vault, config) if (f / template_name).is_file()), None)
    env = _user_env(str(folder)) if folder else _package_env()
    try:
        template = env.get_template(template_name)
        text = template.render(context)
    except jinja2.TemplateNotFound as exc:
        raise UserError(f"template {exc.name}: not found") from None
    except jinja2.TemplateSyntaxError as exc:
        raise UserError(f"template {exc.name or template_name}, line {exc.lineno}: {exc.message}") from None
    except (jinja2.UndefinedError, jinja2.exceptions.SecurityError, TypeError, ValueError) as exc:
        name, line = _template_frame(exc, template_name)
        raise UserError(f"template {name}, line {line}: {exc}") from None
    return text if text.endswith("\n") else text + "\n"


def template_folders(vault, config: Config | None) -> list[Path]:
    """The reader's template folders that exist, in the order they win; `templates_dir` must be in the vault."""
    folders = []
    templates_dir = config.templates_dir if config is not None else None
    if templates_dir and vault is not None:
        path = Path(templates_dir).expanduser()
        path = path if path.is_absolute() else Path(vault) / path
        root = os.path.realpath(vault)
        real = os.path.realpath(path)
        if os.path.commonpath([root, real]) != root:
            where = config.path or Path(vault) / "studykit.toml"
            raise UserError(f"{where}: templates_dir {templates_dir} is outside the vault; "
                            f"keep your templates in a folder inside it (such as .studykit/templates)")
        folders.append(path)
    elif templates_dir:
        folders.append(Path(templates_dir).expanduser())
    if vault is not None:
        folders.append(Path(vault) / USER_TEMPLATES)
    return [f for f in folders if f.is_dir()]


def template_files(folder: Path) -> list[Path]:
    """The templates a folder can offer: its files with plain names (what `render` may load)."""
    return sorted(p for p in folder.iterdir() if _PLAIN.fullmatch(p.name) and p.is_file())


def template_bytes(path: Path) -> bytes:
    """A file of a template folder; one clear line (UserError) when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read this file of the template folder: {exc.strerror}") from None


def read_template(path: Path) -> str:
    try:
        return template_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; a template must be UTF-8") from None


def _template_frame(exc: BaseException, template_name: str) -> tuple[str, object]:
    """The template file and line where rendering failed: Jinja maps its frames onto template lines."""
    for frame, line in reversed(list(traceback.walk_tb(exc.__traceback__))):
        filename = frame.f_code.co_filename
        if filename.endswith(".j2") or frame.f_globals.get("__jinja_template__") is not None:
            return Path(filename).name, line
    return template_name, "?"


def region(content: str, name: str) -> str:
    """`{% filter region("NAME") %}`: the block as a managed region, regenerated on every sync."""
    from vault_export.regions import wrap

    # The blank line before the end marker ends the last block, so a ^block-id there stays a block id;
    # the one after the begin marker starts a new block, so a `$$` there is display math in CommonMark.
    return wrap(name, "\n" + content.strip("\n") + "\n\n") + "\n"


def _environment(env_class, loader):
    env = env_class(
        loader=loader, undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False,
    )
    env.filters["yaml"] = frontmatter.dump
    env.filters["region"] = region
    return env


def _plain(template: str) -> str:
    # Jinja's own loaders accept "sub/x" and absolute names; a note's template needs neither.
    if not _PLAIN.fullmatch(template) or ".." in template:
        raise jinja2.exceptions.SecurityError(f"template {template!r}: only plain file names are allowed")
    return template


class _PackageLoader(jinja2.BaseLoader):
    """Templates shipped in the installed package `studykit.templates` (importlib.resources)."""

    def get_source(self, environment, template):
        item = importlib.resources.files("studykit.templates").joinpath(_plain(template))
        if not item.is_file():
            raise jinja2.TemplateNotFound(template)
        return item.read_text(encoding="utf-8"), str(item), lambda: True


class _FolderLoader(jinja2.BaseLoader):
    """The reader's templates: plain names in one folder, no file reached through a link out of it."""

    def __init__(self, folder: str):
        self.folder = Path(folder)

    def get_source(self, environment, template):
        path = self.folder / _plain(template)
        if not path.is_file():
            raise jinja2.TemplateNotFound(template)
        real, root = os.path.realpath(path), os.path.realpath(self.folder)
        if os.path.commonpath([root, real]) != root:
            raise jinja2.exceptions.SecurityError(f"template {template!r}: links out of {self.folder}")
        mtime = path.stat().st_mtime_ns
        return read_template(path), str(path), lambda: path.is_file() and path.stat().st_mtime_ns == mtime


@functools.cache
def _package_env() -> jinja2.Environment:
    return _environment(jinja2.Environment, _PackageLoader())


@functools.cache
def _user_env(folder: str) -> jinja2.Environment:
    # The reader's folder first, then ours, so an override can {% include %} or extend a shipped template.
    loader = jinja2.ChoiceLoader([_FolderLoader(folder), _PackageLoader()])
    return _environment(SandboxedEnvironment, loader)
