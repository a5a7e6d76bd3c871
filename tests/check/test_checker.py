"""The exercise checker on the sample reader files in tests/exercises/."""

import json
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
import torch

from locations import EXERCISES
from studykit.check.report import CheckReport, format_report
from studykit.check.runner import _read, check_file, parse_mapping
from studykit.check.spec import specs
from studykit.check.worker import grade_file, writer
from studykit.errors import UserError

ROLES = ["PatchEmbed", "MLP", "Attention", "Block", "VisionTransformer"]


def grade(tmp_path, name, mapping=None):
    """The worker's findings for one exercise file, run in this process (the CLI tests use the subprocess).

    Read back through the result file, as the CLI reads them.
    """
    file = name if isinstance(name, Path) else EXERCISES / f"{name}.py"
    out = tmp_path / f"{file.stem}.json"
    grade_file(file.resolve(), mapping or {}, writer(out))
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


def test_a_file_that_starts_background_processes_is_checked_and_they_are_stopped(tmp_path, monkeypatch):
    pids_file = tmp_path / "pids"
    monkeypatch.setenv("STUDYKIT_TEST_PIDS", str(pids_file))
    started = time.monotonic()
    report = check_file(EXERCISES / "broken_background_child.py", timeout=60)
    assert time.monotonic() - started < 30  # not the full timeout
    assert not report.timed_out and report.exit_code == 0, report.modules
    assert report.stopped_processes == 2
    pids = [int(line) for line in pids_file.read_text().split()]
    assert len(pids) == 2  # the setsid child and the double-forked daemon
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    text = format_report(report, specs()["2010.11929"])
    assert "left 2 processes running (started in the background); they were stopped" in text
    assert "loop" not in text


def test_a_file_that_writes_the_result_file_cannot_replace_the_report():
    r = studykit("check", EXERCISES / "broken_writes_result.py", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert [m["passed"] for m in json.loads(r.stdout)["modules"]] == [True]


@pytest.mark.parametrize("content", ["{}", "[1]", "not json", '{"file": "x", "imported": true}'])
def test_a_result_file_that_is_not_a_report_is_said_so(tmp_path, content):
    result = tmp_path / "result.json"
    result.write_text(content)
    report = _read(result, Path("mine.py"), 0.0, 0, tmp_path / "stderr")
    assert report.exit_code == 2
    assert report.import_error.startswith("the checker's result was overwritten by something mine.py ran")


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1", "-inf"])
def test_a_timeout_that_is_not_a_positive_number_of_seconds_is_one_line(value):
    r = studykit("check", EXERCISES / "vit_fused.py", f"--timeout={value}")
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and f"--timeout {value}:" in r.stderr


# --- a second paper plugs into the checker through its registry alone ----------------------------

class _ToyRef(torch.nn.Module):
    """The toy paper's reference: widen, GELU, narrow without a bias, halve (a buffer, as Swin's masks are)."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.up = torch.nn.Linear(dim, hidden)
        self.down = torch.nn.Linear(hidden, dim, bias=False)
        self.register_buffer("gain", torch.full((dim,), 0.5))

    def forward(self, x):
        return self.down(torch.nn.functional.gelu(self.up(x))) * self.gain


class _ToyVariant:
    name, step = "relu_for_gelu", None
    message = "the Toy uses ReLU where the paper uses GELU (width {dim})"

    def apply(self, model):
        model.forward = lambda x: model.down(torch.nn.functional.relu(model.up(x))) * model.gain


class _ToySpec:
    """A paper with one role, Toy."""

    roles = {"Toy": frozenset({"toy", "toymodel"})}
    small = {"dim": 8, "hidden": 16, "drop": 0.0}
    reported = {"Toy": ("dim", "hidden")}
    exercise, steps = "Toy", {}

    def concept(self, keyword, keywords):
        return {"width": "dim", "hidden": "hidden"}.get(keyword)

    def infer(self, role, units, given, model):
        hidden, dim = units[0].weight.shape
        return {"dim": dim, "hidden": hidden, "heads": [1]}

    def categories(self, role, hp):
        return [("linear", (hp["hidden"], hp["dim"]), "in"), ("linear", (hp["dim"], hp["hidden"]), "out")]

    def layout(self, role, hp):
        return [("linear", "up", "in", "widening Linear"), ("linear", "down", "out", "narrowing Linear", False)]

    def describe(self, role, hp):
        return f"width {hp['dim']}"

    def build(self, role, hp, heads, qkv_bias):
        return _ToyRef(hp["dim"], hp["hidden"])

    def input_shape(self, role, hp, batch):
        return (batch, 3, hp["dim"])

    def shape_hint(self, role, got, want, hp):
        return ""

    def variants(self, role):
        return [_ToyVariant()]


SPEC = _ToySpec()
_TOY = '''
import torch
from torch import nn


class Toy(nn.Module):
    def __init__(self, width, hidden=64):
        super().__init__()
        self.a = nn.Linear(width, hidden)
        self.b = nn.Linear(hidden, width, bias={bias})

    def forward(self, x):
        return 0.5 * self.b(torch.nn.functional.{act}(self.a(x)))
'''


@pytest.fixture
def toy_paper(monkeypatch):
    """The installed registries plus a toy paper whose check spec is this module's SPEC."""
    import studykit.check.spec as spec_module
    from studykit.papers import registries

    real = registries()
    toy = types.SimpleNamespace(arxiv="0000.00001", title="A toy", check=f"{__name__}:SPEC")
    monkeypatch.setattr(spec_module, "registries", lambda: {**real, toy.arxiv: toy})


@pytest.mark.parametrize("act, bias, message", [
    ("gelu", False, ""),
    ("relu", False, "the Toy uses ReLU where the paper uses GELU (width 8)"),
    ("gelu", True, "`b` has a bias; the reference's down has none (bias=False)"),
])
def test_a_second_paper_plugs_in_through_its_registry(tmp_path, toy_paper, act, bias, message):
    file = tmp_path / "my_toy.py"
    file.write_text(_TOY.format(act=act, bias=bias))
    found, modules = grade(tmp_path, file)
    assert found["paper"] == "0000.00001" and found["missing"] == []
    toy = modules["Toy"]
    assert toy["passed"] is not message and toy["message"] == message
    assert toy["hparams"] == {"dim": 8, "hidden": 16}
    assert parse_mapping(["Mine=toymodel"]) == {"Mine": "Toy"}
    found, modules = grade(tmp_path, "vit_einops_order")  # ViT's files still go to ViT
    assert found["paper"] == "2010.11929" and set(modules) == {"PatchEmbed", "Attention"}


def test_the_checkers_own_side_and_the_vit_spec_import_no_torch():
    code = ("import sys\n"
            "from studykit.check.runner import check_file, parse_mapping\n"
            "from studykit.check.report import format_report\n"
            "from studykit.check.spec import specs\n"
            "assert '2010.11929' in specs(), specs()\n"
            "assert 'torch' not in sys.modules and 'vit_impl.model' not in sys.modules\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
