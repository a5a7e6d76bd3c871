"""`studykit check` on Swin exercise files: the Swin spec comes from its registry, like ViT's."""

import json
import subprocess
import sys

import pytest

from locations import EXERCISES
from studykit.check.report import CheckReport, format_report
from studykit.check.spec import specs
from studykit.check.worker import grade_file, writer

SWIN = "2103.14030"


def grade(tmp_path, name):
    out = tmp_path / f"{name}.json"
    grade_file((EXERCISES / f"{name}.py").resolve(), {}, writer(out))
    found = json.loads(out.read_text())
    return found, {m["role"]: m for m in found["modules"]}


def test_swins_spec_is_found_through_its_registry():
    assert SWIN in specs()


def test_a_correct_learner_swin_passes_every_role(tmp_path):
    found, modules = grade(tmp_path, "swin_learner")
    assert found["paper"] == SWIN and found["missing"] == []
    assert sorted(modules) == ["PatchEmbed", "PatchMerging", "SwinTransformer", "SwinTransformerBlock",
                               "WindowAttention"]
    for m in modules.values():
        assert m["passed"], (m["role"], m["message"])
        assert [c["name"] for c in m["checks"]] == ["parameter count", "output shape", "output values", "gradients"]
    assert modules["WindowAttention"]["hparams"] == {"dim": 32, "heads": 2, "window": 4}
    assert modules["SwinTransformerBlock"]["hparams"]["shift"] == 2
    # the whole model, its patch merging at the end of each stage as in the paper's code, read from its weights
    assert modules["SwinTransformer"]["hparams"] == {"img_size": 32, "patch_size": 4, "dim": 32, "depths": [2, 2],
                                                     "stage_heads": [2, 4], "window": 4, "num_classes": 10}


def test_the_paper_codes_token_layout_is_checked_too(tmp_path):
    """The paper's code passes (B, H*W, C) tokens where timm and swin_impl pass (B, H, W, C) maps."""
    found, modules = grade(tmp_path, "swin_tokens_layout")
    assert sorted(modules) == ["PatchMerging", "SwinTransformerBlock"]
    for m in modules.values():
        assert m["passed"], (m["role"], m["message"])


@pytest.mark.parametrize("name, role, words", [
    ("broken_swin_no_relative_bias", "WindowAttention", "missing relative position bias"),
    ("broken_swin_bias_unused", "WindowAttention", "relative position bias B is never added"),
    ("broken_swin_shift_no_mask", "SwinTransformerBlock", "without the attention mask"),
    ("broken_swin_shift_direction", "SwinTransformerBlock", "rolled the wrong way"),
    ("broken_swin_no_roll_back", "SwinTransformerBlock", "never rolled back"),
    ("broken_swin_merge_order", "PatchMerging", "concatenated in the wrong order"),
    ("broken_swin_model_no_mask", "SwinTransformer", "without the attention mask"),
])
def test_each_swin_mistake_is_diagnosed(tmp_path, name, role, words):
    found, modules = grade(tmp_path, name)
    assert found["paper"] == SWIN
    assert not modules[role]["passed"]
    assert words in modules[role]["message"], modules[role]["message"]
    text = format_report(CheckReport.from_json(found), specs()[SWIN])
    assert words in text


def test_cli_checks_a_swin_file(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "studykit", "check", str(EXERCISES / "broken_swin_merge_order.py")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "PatchMerging" in proc.stdout and "wrong order" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "studykit", "check", str(EXERCISES / "swin_learner.py")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_swins_spec_and_guide_import_no_torch():
    code = ("import sys\n"
            "from studykit.check.spec import specs\n"
            "from studykit.guide import stages\n"
            "assert '2103.14030' in specs() and '2103.14030' in stages()\n"
            "assert 'torch' not in sys.modules and 'swin_impl.model' not in sys.modules, sorted(sys.modules)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
