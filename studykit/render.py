"""Render the note templates with Jinja: the package's own, or the reader's override from the vault.

The reader's templates (`<vault>/.studykit/templates/`, or `templates_dir` in studykit.toml)
win over the shipped ones and render in Jinja's sandbox. Every template renders with
StrictUndefined, and an error names the template, the line and what was missing.
"""

from __future__ import annotations

import functools
import importlib.resources
import traceback
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from studykit.errors import UserError
from vault_export import frontmatter

USER_TEMPLATES = Path(".studykit") / "templates"


def render(template_name: str, context: dict, *, vault=None, config=None) -> str:
    """Render `template_name` with `context`; the reader's copy in the vault is used when there is one."""
    user_dir = _user_template_dir(template_name, vault, config)
    env = _user_env(str(user_dir)) if user_dir else _package_env()
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


def _user_template_dir(template_name: str, vault, config) -> Path | None:
    candidates = []
    templates_dir = getattr(config, "templates_dir", None)
    if templates_dir:
        path = Path(templates_dir).expanduser()
        candidates.append(path if path.is_absolute() or vault is None else Path(vault) / path)
    if vault is not None:
        candidates.append(Path(vault) / USER_TEMPLATES)
    for folder in candidates:
        if (folder / template_name).is_file():
            return folder
    return None


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


class _PackageLoader(jinja2.BaseLoader):
    """Templates shipped in the installed package `studykit.templates` (importlib.resources)."""

    def get_source(self, environment, template):
        item = importlib.resources.files("studykit.templates").joinpath(template)
        if not item.is_file():
            raise jinja2.TemplateNotFound(template)
        return item.read_text(encoding="utf-8"), str(item), lambda: True


@functools.cache
def _package_env() -> jinja2.Environment:
    return _environment(jinja2.Environment, _PackageLoader())


@functools.cache
def _user_env(folder: str) -> jinja2.Environment:
    # The reader's folder first, then ours, so an override can {% include %} or extend a shipped template.
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(folder), _PackageLoader()])
    return _environment(SandboxedEnvironment, loader)
