"""The exercise checker, the CLI's side: run the worker on the learner's file and read its report.

The learner's file runs in a subprocess (`studykit.check.worker`) with a timeout, so a file that
loops forever, exits or crashes cannot take studykit down with it; whatever it starts is
stopped with it (studykit.processes).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from studykit.check.report import CheckReport
from studykit.check.spec import resolve_role, specs
from studykit.errors import UserError, require_file
from studykit.processes import run_tree


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """`["Mine=PatchEmbed"]` -> `{"Mine": "PatchEmbed"}`, roles checked against the installed papers."""
    known = specs()
    out = {}
    for pair in pairs or []:
        cls, sep, role = pair.partition("=")
        canon = resolve_role(role, known)
        if not sep or not cls.strip() or canon is None:
            roles = dict.fromkeys(name for spec in known.values() for name in spec.roles)
            raise UserError(f"--module {pair}: expected CLASS=ROLE, ROLE one of {', '.join(roles)}")
        out[cls.strip()] = canon
    return out


def check_file(path: Path, mapping: dict[str, str] | None = None, timeout: float = 120.0) -> CheckReport:
    """Import `path` in a subprocess and grade each module it defines."""
    path = Path(path)
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        raise UserError(f"--timeout {timeout:g}: must be a finite number of seconds above 0")
    require_file(path)
    if path.suffix != ".py":
        raise UserError(f"{path}: not a Python file")
    with tempfile.TemporaryDirectory(prefix="studykit-check-") as tmp:
        result, err = Path(tmp) / "result.json", Path(tmp) / "stderr"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(Path(__file__).resolve().parents[2])] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
        args = {"file": str(path.resolve()), "result": str(result), "mapping": mapping or {}}
        with open(err, "wb") as stderr:
            run = run_tree([sys.executable, "-m", "studykit.check.worker"], timeout=timeout,
                           input=json.dumps(args).encode(), cwd=path.parent, env=env,
                           stdout=subprocess.DEVNULL, stderr=stderr)
        report = _read(result, path, timeout if run.timed_out else 0.0, run.returncode, err)
    report.file, report.stopped_processes = path, run.stopped
    report.timed_out = timeout if run.timed_out else 0.0
    return report


def _read(result: Path, path: Path, timed_out: float, returncode: int | None, err: Path) -> CheckReport:
    """The worker's report, or one that says why there is none."""
    if result.exists():
        try:
            return CheckReport.from_json(json.loads(result.read_text(encoding="utf-8")))
        except (ValueError, UnicodeDecodeError) as e:  # json's errors are ValueErrors
            return CheckReport(file=path, import_error=f"the checker's result was overwritten by something "
                                                       f"{path.name} ran, and is not a report ({e})")
    if timed_out:
        return CheckReport(file=path, import_error=f"importing {path.name} did not finish within {timed_out:g} s "
                                                   "(a loop that never ends?)")
    tail = err.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
    reason = f"{path.name} stopped the checker (exit {returncode}): "
    return CheckReport(file=path, import_error=reason + "\n".join(tail))
