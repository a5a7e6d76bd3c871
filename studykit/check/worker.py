"""The subprocess side of `studykit check`: import the learner's file and grade its modules.

Run as `python -m studykit.check.worker`, with {"file", "result", "mapping"} as JSON on stdin:
the result file's name is in no argument the learner's code could read (its sys.argv is just
its own file). Findings go to that file, replaced whole after every module, so that whatever
the learner's code prints cannot garble them and a timeout keeps what was graded.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import sys
from pathlib import Path

from studykit.check.grade import Grader, reader_trace
from studykit.check.report import CheckReport, ModuleResult
from studykit.check.spec import CheckSpec, specs


def find_classes(module, roles, mapping: dict[str, str]) -> tuple[dict, list[str]]:
    """The learner's class for each role (by class name, or the --module mapping), and every class defined.

    A role mapped to a class the file does not define gets the class's name (a str).
    """
    from torch import nn

    defined = [c for _, c in inspect.getmembers(module, inspect.isclass)
               if issubclass(c, nn.Module) and c.__module__ == module.__name__]
    by_name = {c.__name__: c for c in defined}
    found = {}
    for role, class_names in roles.items():
        mine = [n for n, r in mapping.items() if r == role]
        if mine:
            found[role] = by_name.get(mine[0]) or mine[0]
            continue
        hit = next((c for c in defined if c.__name__.lower() in class_names), None)
        if hit is not None:
            found[role] = hit
    return found, [c.__name__ for c in defined]


def choose(module, known: dict[str, CheckSpec], mapping: dict[str, str]) -> tuple[str, dict, list[str]]:
    """The paper whose roles the file fills most (the first registered on a tie), its classes, all classes."""
    best = None
    for arxiv, spec in known.items():
        found, classes = find_classes(module, spec.roles, mapping)
        if best is None or len(found) > len(best[1]):
            best = (arxiv, found, classes)
    return best


def _import(file: Path):
    sys.path.insert(0, str(file.parent))
    spec = importlib.util.spec_from_file_location(f"studykit_exercise_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def grade_file(file: Path, mapping: dict[str, str], save) -> CheckReport:
    """Import `file` and grade it; `save(report)` is called whenever there is more to keep."""
    import torch

    report = CheckReport(file=file)
    torch.manual_seed(0)
    try:
        module = _import(file)
    except BaseException as e:  # SystemExit too: an import must not end the check silently
        report.import_error = reader_trace(e, file)
        save(report)
        return report
    report.imported = True
    known = specs()
    if not known:
        report.import_error = "no installed paper has a check spec (the studykit.papers registries)"
        report.imported = False
        save(report)
        return report
    report.paper, found, report.classes = choose(module, known, mapping)
    spec = known[report.paper]
    report.missing = [r for r in spec.roles if r not in found]
    save(report)
    for role, cls in found.items():
        if isinstance(cls, str):
            report.modules.append(ModuleResult(role=role, name=cls, message=f"no class {cls} in {file.name}"))
        else:
            report.modules.append(Grader(spec, role, cls, file).run())
        save(report)
    return report


def writer(path: Path):
    """save(report): the report as JSON at `path`, replaced whole (written beside, then renamed)."""
    def save(report: CheckReport) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(report.to_json(), indent=1), encoding="utf-8")
        os.replace(tmp, path)
    return save


def main() -> None:
    args = json.loads(sys.stdin.read())
    file = Path(args["file"]).resolve()
    sys.argv = [str(file)]  # as if the learner had run their file
    grade_file(file, args["mapping"], writer(Path(args["result"])))
    # The report is saved: end here, so that no atexit handler or finaliser of the learner's code runs after it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
