"""What `studykit check` found: one torch-free result type, written by the worker, read by the CLI.

The worker saves `CheckReport.to_json()` after every module (so a timeout keeps what was
graded); the CLI reads it back with `from_json`, which rejects anything else that might sit
in the result file, and prints it with `format_report` or as the same JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studykit.check.spec import CheckSpec


@dataclass
class Check:
    name: str  # "parameter count", "output shape", "output values", "gradients", "builds", ...
    ok: bool
    detail: str = ""


@dataclass
class ModuleResult:
    role: str
    name: str  # the learner's class name
    passed: bool = False
    message: str = ""  # the first failed check's detail
    step: int | None = None  # the guide exercise's step the mistake is in
    checks: list[Check] = field(default_factory=list)
    hparams: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"role": self.role, "name": self.name, "passed": self.passed, "message": self.message,
                "step": self.step, "checks": [c.__dict__ for c in self.checks], "hparams": self.hparams}

    @classmethod
    def from_json(cls, data: dict) -> ModuleResult:
        return cls(role=_get(data, "role", str), name=_get(data, "name", str), passed=_get(data, "passed", bool),
                   message=_get(data, "message", str), step=_get(data, "step", (int, type(None))),
                   checks=[Check(_get(c, "name", str), _get(c, "ok", bool), _get(c, "detail", str))
                           for c in _get(data, "checks", list)],
                   hparams=_get(data, "hparams", dict))


@dataclass
class CheckReport:
    file: Path
    imported: bool = False
    import_error: str = ""  # the file did not import: its error
    paper: str = ""  # the arXiv id whose roles the file was checked against
    classes: list[str] = field(default_factory=list)  # every nn.Module class the file defines
    missing: list[str] = field(default_factory=list)  # roles with no class found
    modules: list[ModuleResult] = field(default_factory=list)
    timed_out: float = 0.0  # seconds, when the check was stopped
    stopped_processes: int = 0  # processes the file left running, stopped when the check ended

    @property
    def exit_code(self) -> int:
        if not self.imported:
            return 2
        return 0 if self.modules and all(m.passed for m in self.modules) and not self.timed_out else 1

    @property
    def passed(self) -> list[str]:
        return [m.role for m in self.modules if m.passed]

    def to_json(self) -> dict:
        return {
            "file": str(self.file), "exit_code": self.exit_code, "imported": self.imported,
            "import_error": self.import_error or None, "timed_out": self.timed_out or None, "paper": self.paper,
            "classes": self.classes, "missing": self.missing, "modules": [m.to_json() for m in self.modules],
            "stopped_processes": self.stopped_processes,
        }

    @classmethod
    def from_json(cls, data: Any) -> CheckReport:
        """The report in `data`; ValueError when it is not one (a file that wrote over the result)."""
        if not isinstance(data, dict):
            raise ValueError(f"expected an object, got {type(data).__name__}")
        return cls(file=Path(_get(data, "file", str)), imported=_get(data, "imported", bool),
                   import_error=_get(data, "import_error", (str, type(None))) or "",
                   paper=_get(data, "paper", str), classes=_strings(data, "classes"),
                   missing=_strings(data, "missing"),
                   modules=[ModuleResult.from_json(m) for m in _get(data, "modules", list)])


def _get(data: Any, key: str, kind):
    if not isinstance(data, dict) or key not in data:
        raise ValueError(f"no {key!r}")
    if not isinstance(data[key], kind):
        raise ValueError(f"{key!r} is a {type(data[key]).__name__}")
    return data[key]


def _strings(data: dict, key: str) -> list[str]:
    items = _get(data, key, list)
    if not all(isinstance(s, str) for s in items):
        raise ValueError(f"{key!r} holds more than names")
    return items


def format_report(report: CheckReport, spec: CheckSpec | None) -> str:
    """The report as the terminal shows it; `spec`: the paper's, for the guide's step titles."""
    lines = [str(report.file)]
    if not report.imported:
        lines += ["  ✗ the file does not import:"] + ["    " + ln for ln in report.import_error.splitlines()]
        return "\n".join(lines + _stopped(report))
    for m in report.modules:
        label = m.role if m.name == m.role else f"{m.role} ({m.name})"
        hp = ", ".join(f"{k}={v}" for k, v in m.hparams.items() if v is not None)
        if m.passed:
            lines.append(f"  ✓ {label}: shape, parameter count, outputs and gradients match the reference [{hp}]")
            continue
        lines.append(f"  ✗ {label}: {m.message}")
        if m.step and spec is not None and m.step in spec.steps:
            lines.append(f"      → 学习指南 {spec.exercise} 练习, 步骤 {m.step}: {spec.steps[m.step]}")
        ok = [c.name for c in m.checks if c.ok]
        if ok:
            lines.append(f"      passed: {', '.join(ok)}")
    if report.timed_out:
        done = {m.role for m in report.modules}
        rest = [r for r in (spec.roles if spec else ()) if r not in done and r not in report.missing]
        lines.append(f"  ✗ stopped after {report.timed_out:g} s while checking {rest[0] if rest else 'the file'}"
                     " (a loop that never ends?)")
    if not report.modules and not report.timed_out:
        others = f" (it defines {', '.join(report.classes)})" if report.classes else ""
        example = report.missing[0] if report.missing else "ROLE"
        lines.append(f"  ✗ found none of {', '.join(report.missing)}{others}; name your classes so, or map them: "
                     f"--module MyClass={example}")
    elif report.missing:
        lines.append(f"  · not in this file: {', '.join(report.missing)}")
    lines += _stopped(report)
    n = len(report.modules) + bool(report.timed_out)  # the module it stopped in did not pass
    lines.append(f"{len(report.passed)} of {n} passed" if n else "nothing checked")
    return "\n".join(lines)


def _stopped(report: CheckReport) -> list[str]:
    n = report.stopped_processes
    if not n:
        return []
    return [f"  · {report.file.name} left {n} process{'es' if n > 1 else ''} running (started in the "
            f"background); {'they were' if n > 1 else 'it was'} stopped"]
