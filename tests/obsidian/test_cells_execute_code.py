"""Notes as Obsidian's Execute Code plugin (twibiral/obsidian-execute-code) reads them.

Facts of the plugin this file checks against, from its source:
- src/main.ts `addRunButtons`: a `<code>` element gets a Run button when its class list holds
  `language-<L>` for a supported L (`languageAliases` + `canonicalLanguages`, 2.x; "py" and "tex"
  are aliases since the version with LaTeX support). The class comes from the fence info's first
  word, as CommonMark renders it (`<code class="language-python">` for ```` ```python run ````).
  `run-<L>` fences are drawn as ```` ```L ```` by its code-block processor, so they get one too.
- src/styles.css: `.markdown-preview-view pre.language-output` and `.markdown-rendered
  pre.language-output` are `display: none` (shown again only `@media print`): a ```` ```output ````
  block is invisible in reading view for a reader who has the plugin.
- src/output/FileAppender.ts `findOutputTarget`: "persistent output" looks for exactly
  "\\n```output\\n" right after the code block and appends into it; when that is not there it
  inserts "\\n```output\\n\\n```\\n" right after the block's closing fence.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys

from markdown_it import MarkdownIt

from locations import TEMPLATES
from studykit.cells import parse_cells, run_note
from studykit.guide import render_guide
from studykit.render import USER_TEMPLATES


EXECUTE_CODE_LANGUAGES = {  # src/main.ts: languageAliases + canonicalLanguages
    "javascript", "typescript", "bash", "csharp", "wolfram", "nb", "wl", "hs", "py", "tex",
    "js", "ts", "cs", "latex", "lean", "lua", "python", "cpp", "prolog", "shell", "groovy", "r", "go", "rust",
    "java", "powershell", "kotlin", "mathematica", "haskell", "scala", "swift", "racket", "fsharp", "c", "dart",
    "ruby", "batch", "sql", "octave", "maxima", "applescript", "zig", "ocaml", "php", "lisp", "obsidianjs",
}
HIDDEN_CLASS = "language-output"  # src/styles.css, reading view


def code_classes(text: str) -> list[tuple[str, str]]:
    """(class of each rendered <code> block, its text), as CommonMark renders the note."""
    html = MarkdownIt("commonmark").render(text)
    return re.findall(r'<pre><code class="([^"]*)">(.*?)</code></pre>', html, re.S)


def has_run_button(css_class: str) -> bool:
    names = css_class.split()
    if names and names[0].startswith("language-run-"):  # its code-block processor redraws run-L as L
        names = ["language-" + names[0][len("language-run-"):]]
    return any(f"language-{lang}" in names for lang in EXECUTE_CODE_LANGUAGES)


def test_the_guide_s_illustrative_snippets_get_no_run_button(tmp_path):
    (tmp_path / USER_TEMPLATES).mkdir(parents=True)
    shutil.copy(TEMPLATES / "learning_guide.md.j2", tmp_path / USER_TEMPLATES)
    text = render_guide(tmp_path)
    blocks = code_classes(text)
    snippets = [c for c, body in blocks if "self." in body or "attn.shape" in body]  # x = self.proj(x), ...
    assert len(snippets) >= 5 and any("x = self.proj(x)" in body for _, body in blocks)
    assert not [c for c in snippets if has_run_button(c)]
    # What does get a Run button (the small-tensor experiment) must run on its own, as a click runs it.
    for css_class, body in blocks:
        if has_run_button(css_class):
            code = html.unescape(body)
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, (code, done.stderr)


def test_cells_get_a_run_button_and_their_stored_output_stays_visible(tmp_path):
    path = tmp_path / "Note.md"
    path.write_text("```python run\nprint('a')\n```\n\n~~~run-python\nprint('b')\n~~~\n\n"
                    "```python\nnot a cell\n```\n")
    run_note(path)
    blocks = code_classes(path.read_text())
    assert [(c, body.strip()) for c, body in blocks] == [
        ("language-python", "print('a')"), ("language-cell-output", "a"),
        ("language-run-python", "print('b')"), ("language-cell-output", "b"),
        ("language-python", "not a cell")]
    assert [has_run_button(c) for c, _ in blocks] == [True, False, True, False, True]
    assert HIDDEN_CLASS not in {c for c, _ in blocks}


def test_execute_code_s_persistent_output_block_is_taken_in_not_duplicated(tmp_path):
    path = tmp_path / "Note.md"
    path.write_text("```python run\nprint('from studykit')\n```\n\ntext\n")
    run_note(path)
    # What FileAppender.findOutputTarget then addOutput write after the cell's closing fence:
    text = path.read_text().replace("print('from studykit')\n```\n",
                                    "print('from studykit')\n```\n```output\nfrom the plugin\n```\n", 1)
    path.write_text(text)
    assert parse_cells(text, "Note")[0].output == "from studykit"  # the block right above ours
    run_note(path, force=True)
    again = path.read_text()
    assert "from the plugin" not in again and again.count("```cell-output\nfrom studykit\n```") == 1
    assert again.endswith("%%\n\ntext\n")
