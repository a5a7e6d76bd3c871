"""Mutation testing of the code that decides what survives of a reader's note.

    python tools/mutation.py [MODULE ...] [--max-children 2] [--keep]

For each module (default: all of MODULES) mutmut 3 mutates that one file in a scratch copy of
the project and runs only the module's own tests against each mutant (parallel 2, a per-mutant
timeout), then this prints mutants, killed, survived, equivalent and the score per module.
Survivors listed in tools/mutation_equivalents.toml (module, function, the changed lines, and
why no test can tell the mutant from the original) count as equivalent; any other survivor is
printed with its diff. Exit 1 when a module scores below --goal. Needs `pip install -e ".[dev,mutation]"`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = Path(__file__).with_name("mutation_equivalents.toml")

# module -> the tests that pin its behaviour (the only tests run against its mutants)
MODULES: dict[str, list[str]] = {
    "vault_export/regions.py": ["tests/vault/test_vault_regions.py", "tests/vault/test_merge_property.py"],
    "vault_export/frontmatter.py": ["tests/vault/test_vault_frontmatter.py", "tests/vault/test_note_merge.py",
                                    "tests/vault/test_merge_property.py"],
    "vault_export/sync.py": ["tests/vault/test_note_merge.py", "tests/vault/test_vault_sync.py", "tests/vault/test_vault_writes.py",
                             "tests/vault/test_vault_atomic.py", "tests/vault/test_merge_property.py"],
    "vault_export/record.py": ["tests/vault/test_vault_record.py", "tests/vault/test_vault_sync.py", "tests/vault/test_vault_writes.py"],
    "studykit/checklist.py": ["tests/learning/test_checklist.py"],
    "studykit/taxonomy.py": ["tests/notes/test_taxonomy.py"],
}
# what the scratch copy needs besides the module's package: the rest of the project the tests import
COPY = ["studykit", "vault_export", "vit_impl", "templates", "tests", "pyproject.toml"]
KILLED = {"killed", "timeout", "caught by type check", "segfault"}


@dataclass
class Survivor:
    name: str
    function: str
    change: str  # the diff's removed and added lines, stripped


@dataclass
class Outcome:
    module: str
    statuses: dict[str, str] = field(default_factory=dict)  # mutant -> mutmut's status
    equivalent: list[tuple[Survivor, str]] = field(default_factory=list)
    survivors: list[tuple[Survivor, str]] = field(default_factory=list)  # (survivor, its diff)
    seconds: float = 0.0

    @property
    def killed(self) -> int:
        return sum(status in KILLED for status in self.statuses.values())

    @property
    def score(self) -> float:
        counted = len(self.statuses) - len(self.equivalent)
        return 100.0 * self.killed / counted if counted else 100.0


def mutmut_config(module: str, tests: list[str], timeout_multiplier: float) -> str:
    package = module.split("/")[0]
    others = [p for p in COPY if p != package and p != "pyproject.toml"]
    q = lambda items: "[" + ", ".join(f'"{i}"' for i in items) + "]"  # noqa: E731
    return (
        "\n[tool.mutmut]\n"
        f"source_paths = {q([package])}\n"
        f"only_mutate = {q([module])}\n"
        f"also_copy = {q(others)}\n"
        f"pytest_add_cli_args_test_selection = {q(tests)}\n"
        f"pytest_add_cli_args = {q(['-p', 'no:cacheprovider'])}\n"
        f"timeout_multiplier = {timeout_multiplier}\n"
        "timeout_constant = 5.0\n"
        "use_git_change_detection = false\n"
    )


def scratch_copy(module: str, tests: list[str], timeout_multiplier: float) -> Path:
    work = Path(tempfile.mkdtemp(prefix="studykit-mutation-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", "mutants")
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=ignore)
        else:
            shutil.copy2(src, work / name)
    pyproject = (work / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = re.sub(r"\n\[tool\.mutmut\]\n(?:[^\[].*\n?)*", "\n", pyproject)
    (work / "pyproject.toml").write_text(pyproject + mutmut_config(module, tests, timeout_multiplier), encoding="utf-8")
    # On PYTHONPATH below; a folder missing at start-up would be cached as "nothing to import here".
    (work / "mutants").mkdir()
    return work


def mutmut(work: Path, *args: str, timeout: float) -> str:
    env = dict(os.environ)
    # Subprocesses the tests start (python -m studykit) must import the mutated copy too.
    env["PYTHONPATH"] = str(work / "mutants")
    env.pop("MUTANT_UNDER_TEST", None)
    done = subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=work, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"mutmut {' '.join(args)} failed in {work}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout


def function_of(mutant: str) -> str:
    """`vault_export.regions.x_merge__mutmut_3` -> `merge`; methods -> `Class.method`."""
    local = mutant.rsplit("__mutmut_", 1)[0].rsplit(".", 1)[-1]
    return ".".join(part for part in local.removeprefix("x").removeprefix("_").split("ǁ") if part) if "ǁ" in local \
        else local.removeprefix("x_")


def changed_lines(diff: str) -> str:
    """A diff's removed and added lines, each as its sign, a space and the stripped line."""
    lines = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return "\n".join(line[0] + " " + line[1:].strip() for line in lines)


def load_equivalents() -> dict[tuple[str, str, str], str]:
    if not EQUIVALENTS.exists():
        return {}
    data = tomllib.loads(EQUIVALENTS.read_text(encoding="utf-8"))
    return {(e["module"], e["function"], changed_lines(e["change"])): e["reason"] for e in data.get("equivalent", [])}


def run_module(module: str, tests: list[str], max_children: int, timeout_multiplier: float, keep: bool) -> Outcome:
    outcome = Outcome(module)
    work = scratch_copy(module, tests, timeout_multiplier)
    start = time.perf_counter()
    try:
        mutmut(work, "run", "--max-children", str(max_children), timeout=3 * 3600)
        outcome.seconds = time.perf_counter() - start
        for line in mutmut(work, "results", "--all", "true", timeout=600).splitlines():
            name, sep, status = line.strip().rpartition(": ")
            if sep and "__mutmut_" in name:
                outcome.statuses[name] = status
        equivalents = load_equivalents()
        for name, status in sorted(outcome.statuses.items()):
            if status in KILLED:
                continue
            diff = mutmut(work, "show", name, timeout=600)
            survivor = Survivor(name, function_of(name), changed_lines(diff))
            reason = equivalents.get((module, survivor.function, survivor.change))
            if reason is not None and status == "survived":
                outcome.equivalent.append((survivor, reason))
            else:
                outcome.survivors.append((survivor, f"[{status}]\n{diff}"))
    finally:
        if keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"default: all of {', '.join(MODULES)}")
    parser.add_argument("--max-children", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--timeout-multiplier", type=float, default=10.0,
                        help="a mutant times out after this many times its tests' normal time, plus 5 s (default 10)")
    parser.add_argument("--goal", type=float, default=95.0, help="lowest acceptable score, in percent (default 95)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies (for `mutmut browse` there)")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("mutmut") is None:
        parser.error('mutmut is not installed: pip install -e ".[dev,mutation]"')
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module {unknown[0]!r}; choose from {', '.join(MODULES)}")
    outcomes = []
    for module in args.modules or list(MODULES):
        tests = [t for t in MODULES[module] if (ROOT / t).exists()]
        print(f"{module}: mutating, tests {' '.join(tests)}", flush=True)
        outcome = run_module(module, tests, args.max_children, args.timeout_multiplier, args.keep)
        outcomes.append(outcome)
        for survivor, diff in outcome.survivors:
            print(f"\nSURVIVED {survivor.name} ({survivor.function})\n{diff}")
    print(f"\n{'module':32} {'mutants':>7} {'killed':>6} {'survived':>8} {'equivalent':>10} {'score':>7} {'time':>6}")
    for o in outcomes:
        print(f"{o.module:32} {len(o.statuses):7} {o.killed:6} {len(o.survivors):8} {len(o.equivalent):10} "
              f"{o.score:6.1f}% {o.seconds:5.0f}s")
    for o in outcomes:
        for survivor, reason in o.equivalent:
            print(f"equivalent {o.module} {survivor.function}: {reason}")
    return 0 if all(o.score >= args.goal for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
