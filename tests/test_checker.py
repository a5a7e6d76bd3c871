"""The exercise checker on the sample reader files in tests/exercises/."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studykit.check.report import CheckReport
from studykit.check.runner import check_file, parse_mapping
from studykit.check.worker import grade_file, writer
from studykit.errors import UserError

EXERCISES = Path(__file__).parent / "exercises"
ROLES = ["PatchEmbed", "MLP", "Attention", "Block", "VisionTransformer"]


def grade(tmp_path, name, mapping=None):
    """The worker's findings for one exercise file, run in this process (the CLI tests use the subprocess).

    Read back through the result file, as the CLI reads them.
    """
    out = tmp_path / f"{name}.json"
    grade_file((EXERCISES / f"{name}.py").resolve(), mapping or {}, writer(out))
    found = json.loads(out.read_text())
    assert CheckReport.from_json(found).to_json() == {**found, "stopped_processes": 0}
    return found, {m["role"]: m for m in found["modules"]}


@pytest.mark.parametrize("name, classes", [
    ("vit_fused", ROLES),  # the guide's style: fused qkv, Conv2d
    ("vit_separate_qkv", ["PatchEmbedding", "Mlp", "MultiHeadAttention", "TransformerBlock", "ViT"]),
    ("vit_einops_order", ["PatchEmbed", "Attention"]),  # channels-last patches, heads from head size
])
def test_correct_implementations_pass(tmp_path, name, classes):
    found, modules = grade(tmp_path, name)
    assert found["paper"] == "2010.11929"
    assert sorted(m["name"] for m in modules.values()) == sorted(classes)
    for m in modules.values():
        assert m["passed"], (m["role"], m["message"])
        assert [c["name"] for c in m["checks"]] == ["parameter count", "output shape", "output values", "gradients"]
    if "Attention" in modules:
        assert modules["Attention"]["hparams"]["heads"] == 4


@pytest.mark.parametrize("name, role, words, step", [
    ("broken_no_scale", "Attention", "not scaled by 1/√d", 5),
    ("broken_softmax_axis", "Attention", "softmax runs over the wrong axis", 5),
    ("broken_merge_heads", "Attention", "heads merged in the wrong order", 7),
    ("broken_post_norm", "Block", "post-norm", None),
    ("broken_no_residual", "Block", "attention sub-layer has no residual", None),
    ("broken_relu", "MLP", "uses ReLU", None),
    ("broken_no_pos_embed", "VisionTransformer", "position embedding is never added", None),
    ("broken_no_cls_token", "VisionTransformer", "missing class token", None),
])
def test_each_mistake_is_diagnosed(tmp_path, name, role, words, step):
    found, modules = grade(tmp_path, name)
    assert list(modules) == [role]
    m = modules[role]
    assert not m["passed"]
    assert words in m["message"]
    assert m["step"] == step


def test_module_mapping_grades_a_class_under_another_name(tmp_path):
    found, modules = grade(tmp_path, "broken_defines_nothing", {"Encoder": "MLP"})
    assert not modules["MLP"]["passed"]  # Encoder is a single 4 -> 4 Linear: not an MLP
    found, modules = grade(tmp_path, "vit_fused", {"Nope": "Block"})
    assert modules["Block"]["message"] == "no class Nope in vit_fused.py"


def test_parse_mapping():
    assert parse_mapping(["Mine=patchembed", "X = vit"]) == {"Mine": "PatchEmbed", "X": "VisionTransformer"}
    with pytest.raises(UserError, match="CLASS=ROLE"):
        parse_mapping(["Mine=Encoder"])


def studykit(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "studykit", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_cli_exit_codes_and_json():
    ok = studykit("check", EXERCISES / "vit_einops_order.py", "--json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["exit_code"] == 0 and {m["role"] for m in data["modules"]} == {"PatchEmbed", "Attention"}
    bad = studykit("check", EXERCISES / "broken_softmax_axis.py")
    assert bad.returncode == 1
    assert "步骤 5" in bad.stdout and "softmax" in bad.stdout


def test_file_that_raises_on_import_exits_2_with_its_error():
    r = studykit("check", EXERCISES / "broken_import_error.py")
    assert r.returncode == 2
    assert "line 13" in r.stdout and "NameError: name 'PatchEmbd' is not defined" in r.stdout


def test_file_that_loops_forever_is_stopped():
    report = check_file(EXERCISES / "broken_loops_forever.py", timeout=2)
    assert report.exit_code == 2 and report.timed_out == 2
    assert "did not finish within 2 s" in report.import_error


def test_file_that_defines_nothing_says_so():
    r = studykit("check", EXERCISES / "broken_defines_nothing.py")
    assert r.returncode == 1
    assert "found none of PatchEmbed" in r.stdout and "Encoder" in r.stdout and "--module" in r.stdout


def test_bad_input_is_one_line(tmp_path):
    r = studykit("check", tmp_path / "missing.py")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "no such file" in r.stderr


def test_tick_marks_the_passing_checks_only(tmp_path):
    vault = tmp_path / "vault"
    vault.mkdir()
    note = vault / "guide.md"
    note.write_text("# Exercises\n- [ ] PatchEmbed [check:: PatchEmbed]\n- [ ] Attention [check:: Attention]\n"
                    "- [ ] MLP [check:: MLP]\n", encoding="utf-8")
    r = studykit("check", EXERCISES / "vit_einops_order.py", "--tick", vault)
    assert r.returncode == 0, r.stderr
    lines = note.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("- [x] PatchEmbed [check:: PatchEmbed] ✅ ")
    assert lines[2].startswith("- [x] Attention")
    assert lines[3] == "- [ ] MLP [check:: MLP]"  # not in the file: not ticked
