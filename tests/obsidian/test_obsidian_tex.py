"""Every formula in the demo vault typesets in MathJax 3, the engine Obsidian draws math with.

The math is found as markdown-it's dollarmath plugin finds it (`$$` blocks, `$...$` inline) and
typeset by mathjax-full under node (tests/obsidian/tex_check.cjs). Needs node and
`npm ci --prefix tests/obsidian` (.ci/run does it); skipped, saying so, without them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from obsidian_checks import markdown

HARNESS = Path(__file__).parent  # package.json, tex_check.cjs and, after `npm ci`, node_modules
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (HARNESS / "node_modules" / "mathjax-full").is_dir(),
    reason="MathJax check needs node and `npm ci --prefix tests/obsidian`",
)


def typeset(formulas: list[dict]) -> list[str | None]:
    proc = subprocess.run(["node", str(HARNESS / "tex_check.cjs")], input=json.dumps(formulas), capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(proc.stdout)


def formulas(text: str) -> list[dict]:
    found = []
    for token in markdown().parse(text):
        if token.type == "math_block":
            found.append({"tex": token.content, "display": True})
        for child in token.children or ():
            if child.type in ("math_inline", "math_inline_double"):
                found.append({"tex": child.content, "display": child.type == "math_inline_double"})
    return found


def test_the_harness_reports_what_obsidian_shows_in_red():
    assert typeset([{"tex": r"\frac{a}{b}", "display": True}, {"tex": r"\frac{a}{", "display": True},
                    {"tex": r"\nosuchmacro x", "display": False}]) == [
        None, "Missing close brace", "Undefined control sequence \\nosuchmacro"]


def test_every_formula_of_the_demo_vault_typesets(tmp_path):
    from studykit import demo_pdf, guide, notes
    from studykit.sources.pdf import read_pdf

    ws = notes.open_workspace(tmp_path / "vault")
    pdf = ws.root / "Papers" / "pdfs" / "vit-sample.pdf"
    demo_pdf.write_pdf(pdf)
    notes.write_papers(ws, [read_pdf(pdf)])
    guide.write_guide(ws.root)
    found = {path: formulas(path.read_text(encoding="utf-8")) for path in ws.root.rglob("*.md")}
    every = [f for fs in found.values() for f in fs]
    assert sum(f["display"] for f in every) >= 4  # Eq.1-Eq.4 at least
    errors = [(f["tex"], error) for f, error in zip(every, typeset(every)) if error]
    assert errors == []
