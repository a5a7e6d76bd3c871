"""Swin's shapes step by step, its registry entry and `studykit shapes swin_...` through the paper registry."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from locations import REPO
from studykit.cli import main
from swin_impl.complexity import msa_flops, stage_costs, window_msa_flops
from swin_impl.configs import create_model
from swin_impl.equations import REGISTRY
from swin_impl.shapes import collapse, fold_attention, fold_stages, mermaid, png, trace_equation, trace_model
from vit_impl.model import Attention

SWIN_TINY = "swin_tiny_patch4_window7_224"


@pytest.fixture
def swin_registered(tmp_path, monkeypatch):
    """Swin's `studykit.papers` entry point as pip writes it: a dist-info folder on the path.

    The venv's installed metadata predates swin_impl, so the tests declare the entry point
    of pyproject.toml themselves, read by the real importlib.metadata, in-process and in
    subprocesses (PYTHONPATH).
    """
    site = tmp_path / "site"
    info = site / "swin_registry-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: swin-registry\nVersion: 0\n")
    (info / "entry_points.txt").write_text('[studykit.papers]\n2103.14030 = swin_impl.equations:REGISTRY\n')
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", f"{site}:{REPO}")
    return site


def by_module(steps, name):
    matches = [s for s in steps if s.module == name]
    assert len(matches) == 1, (name, [s.module for s in steps])
    return matches[0]


def test_swin_tiny_shapes_follow_the_paper():
    steps = trace_model(SWIN_TINY)
    assert by_module(steps, "patch_embed.proj").output_shape == (2, 96, 56, 56)
    assert by_module(steps, "patch_embed: proj(...).permute(0, 2, 3, 1)").output_shape == (2, 56, 56, 96)
    # W-MSA: 56 x 56 tokens cut into 8 x 8 = 64 windows of 7 x 7 = 49, for both images.
    windows = by_module(steps, "layers.0.blocks.0: x.reshape(-1, 7, 7, 96)")
    assert (windows.eq, windows.input_shape, windows.output_shape) == ("Eq.3", (2, 8, 8, 7, 7, 96), (128, 7, 7, 96))
    qkv = by_module(steps, "layers.0.blocks.0.attn: x.unbind(0) -> q, k, v")
    assert (qkv.eq, qkv.output_shape) == ("Eq.4", (128, 3, 49, 32))
    bias = by_module(steps, "layers.0.blocks.0.attn: relative_position_bias_table[x]")
    assert (bias.input_shape, bias.output_shape) == ((169, 3), (2401, 3))
    # SW-MSA: rolled up and left by M/2 = 3 before the windows, rolled back after; W-MSA blocks never roll.
    assert by_module(steps, "layers.0.blocks.1: norm1(...).roll(shifts=(-3, -3), dims=(1, 2))").output_shape == (2, 56, 56, 96)
    assert by_module(steps, "layers.0.blocks.1: x.roll(shifts=(3, 3), dims=(1, 2))").eq == "Eq.3"
    assert not [s for s in steps if s.module.startswith("layers.0.blocks.0") and ".roll(" in s.module]
    groups = by_module(steps, "layers.1.downsample: x.permute(0, 1, 3, 4, 2, 5)")
    assert (groups.eq, groups.output_shape) == ("§3.1", (2, 28, 28, 2, 2, 96))  # 2x2 neighbours side by side
    assert by_module(steps, "layers.1.downsample: x.flatten(3)").output_shape == (2, 28, 28, 384)
    assert by_module(steps, "layers.1.downsample.reduction").output_shape == (2, 28, 28, 192)
    assert by_module(steps, "layers.2.downsample.reduction").output_shape == (2, 14, 14, 384)
    assert by_module(steps, "layers.3.downsample.reduction").output_shape == (2, 7, 7, 768)
    assert (steps[-1].module, steps[-1].eq, steps[-1].output_shape) == ("head.fc", "", (2, 1000))


def test_collapse_shows_each_stage_once_per_period_of_blocks():
    shown = collapse(trace_model(SWIN_TINY))
    blocks = {}
    for s in shown:
        match = re.match(r"^layers\.(\d)\.blocks\.(\d+)", s.module)
        if match:
            blocks.setdefault(int(match.group(1)), {})[int(match.group(2))] = s.repeat
    # Stage 3's six blocks are three W-MSA/SW-MSA pairs; stage 4's 7x7 map is one window, so
    # neither of its blocks shifts and one block stands for both.
    assert blocks == {0: {0: 1, 1: 1}, 1: {0: 1, 1: 1}, 2: {0: 3, 1: 3}, 3: {0: 2}}


def test_a_map_the_window_does_not_divide_is_padded_in_the_trace():
    steps = trace_model(SWIN_TINY, batch=1, img_size=192)  # 48 x 48 tokens, windows of 7: padded to 49
    pad = [s for s in steps if s.module.startswith("layers.0.blocks.0: ") and ".pad(" in s.module]
    assert [(s.input_shape, s.output_shape) for s in pad] == [((1, 48, 48, 96), (1, 49, 49, 96))]
    assert by_module(steps, "layers.0.blocks.0: x.reshape(-1, 7, 7, 96)").output_shape == (49, 7, 7, 96)


def test_picture_of_a_whole_model_is_the_pyramid_stage_by_stage():
    steps = collapse(trace_model(SWIN_TINY))
    folded = fold_stages(steps)
    stages = [(s.module, s.output_shape) for s in folded if ".blocks:" in s.module]
    assert stages == [
        ("layers.0.blocks: 2 blocks, W-MSA, SW-MSA in turn", (2, 56, 56, 96)),
        ("layers.1.blocks: 2 blocks, W-MSA, SW-MSA in turn", (2, 28, 28, 192)),
        ("layers.2.blocks: 6 blocks, W-MSA, SW-MSA in turn", (2, 14, 14, 384)),
        ("layers.3.blocks: 2 blocks, W-MSA (one window: no shift)", (2, 7, 7, 768)),
    ]
    gather = by_module(folded, "layers.1.downsample: 2x2 neighbours side by side")
    assert (gather.input_shape, gather.output_shape) == ((2, 56, 56, 96), (2, 28, 28, 384))
    data = png(steps, "swin_tiny")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and 700 <= width <= 1200 and height < 3000
    flow = mermaid(steps)
    assert flow.count("-->") == len(folded) and '"§3.1: patches, merging"' in flow


def test_equation_modules_trace_to_the_shapes_of_their_cells():
    eq3 = trace_equation(REGISTRY.equation("Eq.3"))
    assert {s.eq for s in eq3} == {"Eq.3"}
    assert eq3[0].input_shape == (2, 56, 56, 96) and eq3[-1].output_shape == (2, 56, 56, 96)
    assert any(".roll(" in s.module for s in eq3)
    folded = fold_attention(eq3)  # what the picture of Eq.3 shows: Eq.4 has its own
    attention = [s for s in folded if s.module.endswith("attention in every window (Eq.4)")]
    assert [(s.module.split(":")[0], s.input_shape, s.output_shape) for s in attention] == [
        ("0.attn", (128, 49, 96), (128, 49, 96)), ("1.attn", (128, 49, 96), (128, 49, 96))]
    inside = [s for s in eq3 if re.match(r"^\d\.attn[.:]", s.module)]
    assert len(inside) > 20 and len(folded) == len(eq3) - len(inside) + 2
    eq4 = trace_equation(REGISTRY.equation("Eq.4"))
    assert (eq4[0].input_shape, eq4[-1].output_shape) == ((128, 49, 96), (128, 49, 96))
    assert (128, 3, 49, 49) in {s.output_shape for s in eq4}


@pytest.mark.slow
@pytest.mark.parametrize("eq_id", ["Eq.1", "Eq.2", "Eq.3", "Eq.4"])
def test_every_cell_runs_alone_and_prints_the_shapes_a_learner_should_see(eq_id, tmp_path, run_alone):
    code = REGISTRY.equation(eq_id).code
    result = run_alone(code, cwd=tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    expected = {
        "Eq.1": ["(2, 56, 56, 96)", "(2, 3, 3136, 3136)", "13.8x"],
        "Eq.2": ["(128, 7, 7, 96)", "2 x 64 windows", "(128, 49, 96)", "(128, 3, 49, 32)", "(128, 3, 49, 49)", "13.8x"],
        "Eq.3": ["(64, 49, 49)", "(3, 3)", "(2, 28, 28, 192)"],
        "Eq.4": ["(128, 3, 49, 32)", "(169, 3)", "(1, 3, 49, 49)", "(128, 49, 96)"],
    }[eq_id]
    for text in expected:
        assert text in out, (text, out)


def test_registry_is_read_without_torch():
    code = "import sys, swin_impl.equations as e; print(e.REGISTRY.arxiv, len(e.REGISTRY.equations), 'torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["2103.14030", "4", "False"], result.stderr
    assert [e.id for e in REGISTRY.equations] == ["Eq.1", "Eq.2", "Eq.3", "Eq.4"]
    assert REGISTRY.model in REGISTRY.model_names()
    for eq in REGISTRY.equations:
        module, _, name = eq.module.partition(":")
        assert getattr(__import__(module, fromlist=[name]), name)  # the named module exists


def test_complexity_formulas_count_what_the_modules_compute():
    """Eq.1 and Eq.2 in multiply-adds, against torch's FLOP counter (2 FLOPs a multiply-add) on real modules."""
    h = w = 14
    C, M = 96, 7
    attention = Attention(C, num_heads=3, qkv_bias=True).eval()
    attention.fused_attn = False
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        attention(torch.randn(1, h * w, C))
    assert counter.get_total_flops() == 2 * msa_flops(h, w, C)

    model = create_model(SWIN_TINY, img_size=56).eval()  # stage 1 is 14 x 14 tokens
    block = model.layers[0].blocks[0]
    assert block.window_size == (M, M)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        block._attn(torch.randn(1, h, w, C))
    assert counter.get_total_flops() == 2 * window_msa_flops(h, w, C, M)


def test_stage_costs_of_swin_tiny():
    with torch.device("meta"):
        model = create_model(SWIN_TINY)
    costs = stage_costs(model)
    assert [(c.h, c.C, c.M) for c in costs] == [(56, 96, 7), (28, 192, 7), (14, 384, 7), (7, 768, 7)]
    assert costs[0].ratio == pytest.approx(13.8, abs=0.05) and costs[-1].ratio == 1.0  # a 7x7 map is one window


# --- the CLI, through the paper registry -------------------------------------------------------------------


def test_cli_table_json_png_and_mermaid_for_swin(swin_registered, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["shapes", SWIN_TINY]) == 0
    table = capsys.readouterr().out
    assert "layers.0.blocks.1: norm1(...).roll(shifts=(-3, -3), dims=(1, 2))" in table
    assert "(128, 3, 49, 32)" in table and "x3" in table and "§3.1" in table

    assert main(["shapes", SWIN_TINY, "--batch", "1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [s.to_json() for s in trace_model(SWIN_TINY, batch=1)]

    picture = tmp_path / "swin.png"
    assert main(["shapes", SWIN_TINY, "--png", str(picture), "--mermaid"]) == 0
    out = capsys.readouterr()
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and str(picture) in out.err
    assert out.out.startswith("flowchart TD\n") and "(2, 28, 28, 192)" in out.out


def test_cli_unknown_model_lists_the_models_of_every_paper(swin_registered, tmp_path):
    result = subprocess.run([sys.executable, "-m", "studykit", "shapes", "swin_nope"], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "unknown model 'swin_nope'" in result.stderr
    assert "vit_base_patch16_224" in result.stderr and SWIN_TINY in result.stderr


def test_cli_image_smaller_than_a_patch_is_one_line_and_exit_2(swin_registered, capsys):
    # In this process: the test above runs `studykit shapes` with bad input as a real process.
    assert main(["shapes", SWIN_TINY, "--img-size", "2"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"studykit: error: {SWIN_TINY}: image size 2x2 is smaller than one patch of 4x4"]
