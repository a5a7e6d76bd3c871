"""The exercise checker: grades the reader's own ViT modules against vit_impl.

The reader's file runs in a subprocess (`studykit.check_worker`) with a timeout, so a file that
loops forever, exits or crashes cannot take studykit down with it. This side starts it, reads
its findings and words them for the reader.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from studykit.check_worker import ROLES
from studykit.errors import UserError, require_file

_ROLE_ALIASES = {r.lower(): r for r in ROLES} | {"mlp": "MLP", "vit": "VisionTransformer"}
_ATTENTION_STEPS = {  # the learning guide's seven attention steps
    1: "生成 QKV / project to qkv", 2: "重塑 / reshape to (B, N, 3, heads, d)",
    3: "转置 / permute to (3, B, heads, N, d)", 4: "分离 Q, K, V / split q, k, v",
    5: "计算注意力 / scores and softmax", 6: "加权求和 / attn @ v", 7: "合并多头 / merge the heads",
}


@dataclass
class ModuleResult:
    role: str
    name: str  # the reader's class name
    passed: bool
    message: str = ""
    step: int | None = None
    checks: list[dict] = field(default_factory=list)
    hparams: dict = field(default_factory=dict)


@dataclass
class CheckReport:
    file: Path
    modules: list[ModuleResult] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # roles with no class found
    classes: list[str] = field(default_factory=list)  # every nn.Module class the file defines
    import_error: str = ""  # the file did not import: its error
    timed_out: float = 0.0  # seconds, when the check was stopped
    imported: bool = False

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
            "file": str(self.file), "exit_code": self.exit_code, "import_error": self.import_error or None,
            "timed_out": self.timed_out or None, "classes": self.classes, "missing": self.missing,
            "modules": [m.__dict__ for m in self.modules],
        }


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """`["Mine=PatchEmbed"]` -> `{"Mine": "PatchEmbed"}`, roles checked."""
    out = {}
    for pair in pairs or []:
        cls, sep, role = pair.partition("=")
        canon = _ROLE_ALIASES.get(role.strip().lower())
        if not sep or not cls.strip() or canon is None:
            raise UserError(f"--module {pair}: expected CLASS=ROLE, ROLE one of {', '.join(ROLES)}")
        out[cls.strip()] = canon
    return out


def check_file(path: Path, mapping: dict[str, str] | None = None, timeout: float = 120.0) -> CheckReport:
    """Import `path` in a subprocess and grade each module it defines."""
    path = Path(path)
    require_file(path)
    if path.suffix != ".py":
        raise UserError(f"{path}: not a Python file")
    report = CheckReport(file=path)
    with tempfile.TemporaryDirectory(prefix="studykit-check-") as tmp:
        out = Path(tmp) / "result.json"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(Path(__file__).resolve().parent.parent)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
        cmd = [sys.executable, "-m", "studykit.check_worker", str(path.resolve()), str(out), json.dumps(mapping or {})]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=path.parent, env=env)
        except subprocess.TimeoutExpired:
            proc, report.timed_out = None, timeout
        found = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
    if found is None:
        if report.timed_out:
            report.import_error = f"importing {path.name} did not finish within {timeout:g} s (a loop that never ends?)"
        else:
            tail = (proc.stderr or "").strip().splitlines()[-5:]
            report.import_error = f"{path.name} stopped the checker (exit {proc.returncode}): " + "\n".join(tail)
        return report
    report.imported = found["imported"]
    report.import_error = found["import_error"] or ""
    report.classes, report.missing = found["classes"], found["missing"]
    report.modules = [
        ModuleResult(role=m["role"], name=m["class"], passed=m["passed"], message=m["message"], step=m["step"],
                     checks=m["checks"], hparams=m["hparams"])
        for m in found["modules"]
    ]
    return report


def format_report(report: CheckReport) -> str:
    """The report as the terminal shows it."""
    lines = [str(report.file)]
    if not report.imported:
        lines += ["  ✗ the file does not import:"] + ["    " + ln for ln in report.import_error.splitlines()]
        return "\n".join(lines)
    for m in report.modules:
        label = m.role if m.name == m.role else f"{m.role} ({m.name})"
        hp = ", ".join(f"{k}={v}" for k, v in m.hparams.items() if v is not None)
        if m.passed:
            lines.append(f"  ✓ {label}: shape, parameter count, outputs and gradients match the reference [{hp}]")
            continue
        lines.append(f"  ✗ {label}: {m.message}")
        if m.step:
            lines.append(f"      → 学习指南 Attention 练习, 步骤 {m.step}: {_ATTENTION_STEPS[m.step]}")
        ok = [c["name"] for c in m.checks if c["ok"]]
        if ok:
            lines.append(f"      passed: {', '.join(ok)}")
    if report.timed_out:
        done = {m.role for m in report.modules}
        rest = [r for r in ROLES if r not in done and r not in report.missing]
        lines.append(f"  ✗ stopped after {report.timed_out:g} s while checking {rest[0] if rest else 'the file'}"
                     " (a loop that never ends?)")
    if not report.modules and not report.timed_out:
        others = f" (it defines {', '.join(report.classes)})" if report.classes else ""
        lines.append(f"  ✗ found none of {', '.join(ROLES)}{others}; name your classes so, or map them: "
                     "--module MyClass=PatchEmbed")
    elif report.missing:
        lines.append(f"  · not in this file: {', '.join(report.missing)}")
    n = len(report.modules) + bool(report.timed_out)  # the module it stopped in did not pass
    lines.append(f"{len(report.passed)} of {n} passed" if n else "nothing checked")
    return "\n".join(lines)
