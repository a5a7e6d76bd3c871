"""Shape tracing, its pictures and `studykit shapes`: the reader follows every shape change of a ViT."""

import json
import re

import pytest
import torch

from studykit.cli import main
from vit_impl.configs import create_model
from vit_impl.diagram import draw, mermaid
from vit_impl.equations import REGISTRY
from vit_impl.model import VisionTransformer
from vit_impl.shapes import ShapeStep, collapse_blocks, trace, trace_equation, trace_model

SMALL = dict(img_size=32, patch_size=8, embed_dim=48, depth=3, num_heads=4, num_classes=7)


def small_model(**overrides) -> VisionTransformer:
    torch.manual_seed(0)
    return VisionTransformer(**{**SMALL, **overrides})


def by_module(steps, name) -> ShapeStep:
    matches = [s for s in steps if s.module == name]
    assert len(matches) == 1, (name, [s.module for s in steps])
    return matches[0]


def test_vit_base_16_shapes_follow_the_learning_guide():
    steps = trace_model("vit_base_patch16_224", batch=2)
    proj = by_module(steps, "patch_embed.proj")
    assert (proj.input_shape, proj.output_shape) == ((2, 3, 224, 224), (2, 768, 14, 14))
    tokens = by_module(steps, "patch_embed: x.transpose(1, 2)")
    assert tokens.output_shape == (2, 196, 768)
    cat = by_module(steps, "cat([cls_token, patch_embed(...)], dim=1)")
    assert (cat.input_shape, cat.output_shape) == ((2, 196, 768), (2, 197, 768))
    assert by_module(steps, "blocks.11.attn.qkv").output_shape == (2, 197, 2304)
    assert by_module(steps, "blocks.11.mlp.fc1").output_shape == (2, 197, 3072)
    assert by_module(steps, "norm(...)[:, 0]").output_shape == (2, 768)
    head = steps[-1]
    assert (head.module, head.eq, head.output_shape) == ("head", "", (2, 1000))


def test_every_step_of_a_small_model_has_the_shapes_of_its_config():
    B, D, H, N = 3, SMALL["embed_dim"], SMALL["num_heads"], (SMALL["img_size"] // SMALL["patch_size"]) ** 2
    steps = trace(small_model(), torch.randn(B, 3, 32, 32))
    expected = [
        ("patch_embed.proj", "Eq.1", (B, 3, 32, 32), (B, D, 4, 4)),
        ("patch_embed: proj(...).flatten(2)", "Eq.1", (B, D, 4, 4), (B, D, N)),
        ("patch_embed: x.transpose(1, 2)", "Eq.1", (B, D, N), (B, N, D)),
        ("cls_token.expand(3, -1, -1)", "Eq.1", (1, 1, D), (B, 1, D)),
        ("cat([cls_token, patch_embed(...)], dim=1)", "Eq.1", (B, N, D), (B, N + 1, D)),
        ("x + pos_embed", "Eq.1", (B, N + 1, D), (B, N + 1, D)),
    ]
    for layer in range(SMALL["depth"]):
        b = f"blocks.{layer}"
        expected += [
            (f"{b}.norm1", "Eq.2", (B, N + 1, D), (B, N + 1, D)),
            (f"{b}.attn.qkv", "Eq.2", (B, N + 1, D), (B, N + 1, 3 * D)),
            (f"{b}.attn: qkv(...).reshape({B}, {N + 1}, 3, {H}, {D // H})", "Eq.2", (B, N + 1, 3 * D),
             (B, N + 1, 3, H, D // H)),
            (f"{b}.attn: x.permute(2, 0, 3, 1, 4)", "Eq.2", (B, N + 1, 3, H, D // H), (3, B, H, N + 1, D // H)),
            (f"{b}.attn: x.unbind(0) -> q, k, v", "Eq.2", (3, B, H, N + 1, D // H), (B, H, N + 1, D // H)),
            (f"{b}.attn: scaled_dot_product_attention(q, k, v)", "Eq.2", (B, H, N + 1, D // H),
             (B, H, N + 1, D // H)),
            (f"{b}.attn: x.transpose(1, 2)", "Eq.2", (B, H, N + 1, D // H), (B, N + 1, H, D // H)),
            (f"{b}.attn: x.reshape({B}, {N + 1}, {D})", "Eq.2", (B, N + 1, H, D // H), (B, N + 1, D)),
            (f"{b}.attn.proj", "Eq.2", (B, N + 1, D), (B, N + 1, D)),
            (f"{b}: x + attn(...)", "Eq.2", (B, N + 1, D), (B, N + 1, D)),
            (f"{b}.norm2", "Eq.3", (B, N + 1, D), (B, N + 1, D)),
            (f"{b}.mlp.fc1", "Eq.3", (B, N + 1, D), (B, N + 1, 4 * D)),
            (f"{b}.mlp.act", "Eq.3", (B, N + 1, 4 * D), (B, N + 1, 4 * D)),
            (f"{b}.mlp.fc2", "Eq.3", (B, N + 1, 4 * D), (B, N + 1, D)),
            (f"{b}: x + mlp(...)", "Eq.3", (B, N + 1, D), (B, N + 1, D)),
        ]
    expected += [
        ("norm", "Eq.4", (B, N + 1, D), (B, N + 1, D)),
        ("norm(...)[:, 0]", "Eq.4", (B, N + 1, D), (B, D)),
        ("head", "", (B, D), (B, SMALL["num_classes"])),
    ]
    assert [(s.module, s.eq, s.input_shape, s.output_shape) for s in steps] == expected


def test_average_pooling_without_class_token_is_traced_as_the_model_runs():
    steps = trace(small_model(class_token=False, global_pool="avg"), torch.randn(2, 3, 32, 32))
    names = [s.module for s in steps]
    assert not any("cls_token" in n or n.startswith("cat(") for n in names)
    mean = by_module(steps, "x.mean(dim=1)")
    assert (mean.eq, mean.input_shape, mean.output_shape) == ("Eq.4", (2, 16, 48), (2, 48))
    assert by_module(steps, "fc_norm").eq == "Eq.4"


def test_the_explicit_attention_path_shows_the_attention_matrix():
    model = small_model()
    for block in model.blocks:
        block.attn.fused_attn = False
    steps = trace(model, torch.randn(2, 3, 32, 32))
    softmax = by_module(steps, "blocks.0.attn: x.softmax(dim=-1)")
    assert softmax.output_shape == (2, 4, 17, 17)  # (B, heads, N+1, N+1): token i's weights over token j
    assert not any("scaled_dot_product_attention" in s.module for s in steps)


def test_trace_leaves_the_model_as_it_found_it():
    model = small_model().train()
    x = torch.randn(2, 3, 32, 32)
    trace(model, x)
    assert model.training
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_tracing_on_the_meta_device_gives_the_shapes_of_a_real_run():
    real = trace(create_model("vit_tiny_patch16_224"), torch.randn(2, 3, 224, 224))
    assert trace_model("vit_tiny_patch16_224") == real


def test_img_size_and_batch_change_the_traced_shapes():
    steps = trace_model("vit_small_patch32_224", batch=5, img_size=384)
    assert steps[0].input_shape == (5, 3, 384, 384)
    assert by_module(steps, "cat([cls_token, patch_embed(...)], dim=1)").output_shape == (5, 145, 384)
    with pytest.raises(ValueError, match="not divisible"):
        trace_model("vit_small_patch32_224", img_size=100)


def test_collapse_blocks_keeps_block_0_with_the_repeat_count():
    steps = trace_model("vit_tiny_patch16_224")
    shown = collapse_blocks(steps)
    assert not any(s.module.startswith("blocks.1") for s in shown)
    block0 = [s for s in shown if s.module.startswith("blocks.0")]
    assert block0 and all(s.repeat == 12 for s in block0)
    assert all(s.repeat == 1 for s in shown if not s.module.startswith("blocks."))
    # blocks whose shapes differ are not merged: the reader would be told something false
    changed = [ShapeStep(s.module, s.eq, s.input_shape, (9,)) if s.module == "blocks.3.mlp.fc1" else s for s in steps]
    assert collapse_blocks(changed) == changed


@pytest.mark.parametrize("eq_id", ["Eq.1", "Eq.2", "Eq.3", "Eq.4"])
def test_trace_equation_labels_every_step_with_its_equation(eq_id):
    eq = REGISTRY.equation(eq_id)
    steps = trace_equation(eq)
    assert steps and {s.eq for s in steps} == {eq_id}
    module, x = eq.build()
    with torch.no_grad():
        assert steps[-1].output_shape == tuple(module(x).shape)
    if eq_id == "Eq.2":
        assert by_module(steps, "attn.qkv").output_shape == (2, 197, 2304)
        assert steps[-1].module == "x + attn(...)"


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_draw_writes_a_png_for_a_whole_model_and_for_one_equation(tmp_path):
    model_png = draw(collapse_blocks(trace_model("vit_base_patch16_224")), tmp_path / "vit.png", title="ViT-B/16")
    eq_png = draw(trace_equation(REGISTRY.equation("Eq.1")), tmp_path / "eq1.png", title="Eq.1")
    w, h = png_size(model_png)
    assert 700 <= w <= 1200 and h > w  # note width, one tall column of boxes
    w1, h1 = png_size(eq_png)
    assert w1 == w and h1 < h
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eq1.png", "vit.png"]  # no temporary file left


def test_mermaid_is_a_flowchart_with_one_subgraph_per_equation_and_quoted_labels():
    steps = collapse_blocks(trace_model("vit_base_patch16_224"))
    text = mermaid(steps)
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    subgraphs = [line.strip() for line in lines if line.strip().startswith("subgraph")]
    assert [re.search(r'"(Eq\.\d|head)', s).group(1) for s in subgraphs] == ["Eq.1", "Eq.2", "Eq.3", "Eq.4", "head"]
    assert "x 12 blocks" in subgraphs[1]
    nodes = re.findall(r"^\s*(s\d+)\[(.*)\]$", text, flags=re.M)
    assert len(nodes) == len(steps) + 1
    for _, label in nodes:  # quoted, so Mermaid reads (, ) and , as text
        assert label.startswith('"') and label.endswith('"') and '"' not in label[1:-1]
    assert '"input<br/>(2, 3, 224, 224)"' in text and "(2, 197, 768)" in text
    assert text.count("-->") == len(steps)
    assert lines.count("    end") == len(subgraphs)


def test_cli_json_lists_every_step(capsys):
    assert main(["shapes", "vit_tiny_patch16_224", "--batch", "3", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [s.to_json() for s in trace_model("vit_tiny_patch16_224", batch=3)]
    assert set(rows[0]) == {"module", "eq", "input_shape", "output_shape"}
    assert rows[0]["input_shape"] == [3, 3, 224, 224] and rows[-1]["output_shape"] == [3, 1000]


def test_cli_table_png_and_mermaid(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")  # rich folds long cells to the terminal's width
    assert main(["shapes", "vit_base_patch16_224"]) == 0
    table = capsys.readouterr().out
    assert "patch_embed.proj" in table and "(2, 196, 768)" in table and "x12" in table
    assert "cat([cls_token, patch_embed(...)], dim=1)" in table  # brackets survive the table markup

    png = tmp_path / "flow.png"
    assert main(["shapes", "vit_base_patch32_224", "--png", str(png), "--mermaid"]) == 0
    out = capsys.readouterr()
    assert png_size(png)[0] > 0 and str(png) in out.err
    assert out.out.startswith("flowchart TD\n") and "(2, 49, 768)" in out.out


@pytest.mark.parametrize(
    "args, message",
    [
        (["vit_nope_patch16_224"], "unknown model 'vit_nope_patch16_224'"),
        (["vit_base_patch16_224", "--img-size", "100"], "not divisible by patch size 16x16"),
        (["vit_base_patch16_224", "--png", "no/such/folder/x.png"], "does not exist"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, message, tmp_path, monkeypatch, capsys):
    # In this process: tests/swin/test_swin_shapes.py runs `studykit shapes` with bad input as a real process.
    monkeypatch.chdir(tmp_path)
    assert main(["shapes", *args]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and message in err
    assert not list(tmp_path.iterdir())
