"""Zotero's own settings that decide where files are: the linked-file base directory.

A linked file stored relative to the base directory has the path `attachments:REL`
(`Zotero.Attachments.BASE_PATH_PLACEHOLDER`, chrome/content/zotero/xpcom/attachments.js); the
directory itself is a preference, kept only in the profile's prefs.js as
`user_pref("extensions.zotero.baseAttachmentPath", "...")`. Profiles are listed in profiles.ini
under Zotero's profile folder, which depends on the system.
"""

from __future__ import annotations

import configparser
import json
import os
import re
from pathlib import Path

PREFS_ENV = "STUDYKIT_ZOTERO_PREFS"  # a prefs.js to use instead of looking for the profile
BASE_PATH_PREF = "extensions.zotero.baseAttachmentPath"
DATA_DIR_PREF = "extensions.zotero.dataDir"
_PREF = re.compile(r'user_pref\("([^"]+)",\s*("(?:[^"\\]|\\.)*"|[^)]*)\);')


def profile_roots() -> list[Path]:
    """Where Zotero keeps profiles.ini on Linux, macOS and Windows."""
    home = Path.home()
    roots = [home / ".zotero" / "zotero", home / "Library" / "Application Support" / "Zotero"]
    if os.environ.get("APPDATA"):
        roots.append(Path(os.environ["APPDATA"]) / "Zotero" / "Zotero")
    return roots


def read_prefs(path: Path) -> dict[str, object]:
    """The user_pref(...) lines of a prefs.js."""
    prefs = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return prefs
    for name, raw in _PREF.findall(text):
        try:
            prefs[name] = json.loads(raw)
        except ValueError:
            prefs[name] = raw.strip()
    return prefs


def find_prefs(data_dir: Path) -> Path | None:
    """The prefs.js of the profile that uses `data_dir` (else the default profile), if any."""
    if os.environ.get(PREFS_ENV):
        return Path(os.environ[PREFS_ENV]).expanduser()
    candidates = []
    for root in profile_roots():
        ini = configparser.ConfigParser()
        try:
            ini.read(root / "profiles.ini", encoding="utf-8")
        except (OSError, configparser.Error):
            continue
        for section in ini.sections():
            if "Path" not in ini[section]:
                continue
            folder = Path(ini[section]["Path"])
            folder = root / folder if ini[section].get("IsRelative", "1") == "1" else folder
            candidates.append((ini[section].get("Default") == "1", folder / "prefs.js"))
    for _, prefs in candidates:
        data = read_prefs(prefs).get(DATA_DIR_PREF)
        if isinstance(data, str) and Path(data).expanduser().resolve() == Path(data_dir).resolve():
            return prefs
    defaults = [prefs for default, prefs in candidates if default] or [prefs for _, prefs in candidates]
    return defaults[0] if defaults else None


def base_directory(data_dir: Path) -> tuple[Path | None, Path | None]:
    """(the base directory Zotero resolves `attachments:` paths against, the prefs.js that says so)."""
    prefs = find_prefs(data_dir)
    value = read_prefs(prefs).get(BASE_PATH_PREF) if prefs is not None else None
    return (Path(value).expanduser() if isinstance(value, str) and value else None), prefs
