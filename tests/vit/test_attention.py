"""Attention maps, attention rollout and `studykit attention`: the reader sees where a ViT looks."""

import pytest
import torch
from PIL import Image

from studykit.cli import main
from vit_impl.attention import attention_maps, attention_rollout, cls_mask, head_maps, mass_in_box
from vit_impl.model import VisionTransformer

SMALL = dict(img_size=16, patch_size=4, embed_dim=24, depth=3, num_heads=3, num_classes=10)


def small_model():
    torch.manual_seed(0)
    return VisionTransformer(**SMALL)


def test_one_row_stochastic_map_per_block_and_the_model_is_left_as_it_was():
    model = small_model().train()
    x = torch.randn(2, 3, 16, 16)
    maps = attention_maps(model, x)
    assert len(maps) == 3
    for attn in maps:
        assert attn.shape == (2, 3, 17, 17)  # (B, heads, N, N), N = 16 patches + class token
        torch.testing.assert_close(attn.sum(-1), torch.ones(2, 3, 17))
    assert model.training and all(b.attn.fused_attn for b in model.blocks)
    assert not any(b.attn.attn_drop._forward_hooks for b in model.blocks)  # the hooks are removed
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x))


def test_maps_are_the_softmax_of_the_first_blocks_queries_and_keys():
    model = small_model().eval()
    x = torch.randn(1, 3, 16, 16)
    maps = attention_maps(model, x)
    with torch.no_grad():
        z = model.patch_embed(x)
        z = torch.cat([model.cls_token.expand(1, -1, -1), z], 1) + model.pos_embed
        q, k, _ = model.blocks[0].attn.qkv(model.blocks[0].norm1(z)).reshape(1, 17, 3, 3, 8).permute(2, 0, 3, 1, 4)
        expected = (q @ k.transpose(-2, -1) / 8**0.5).softmax(-1)
    torch.testing.assert_close(maps[0], expected)


def test_rollout_adds_the_residual_and_multiplies_in_layer_order():
    torch.manual_seed(1)
    a0 = torch.rand(1, 2, 5, 5).softmax(-1)
    a1 = torch.rand(1, 2, 5, 5).softmax(-1)
    eye = torch.eye(5)
    A0, A1 = (a0.mean(1) + eye) / 2, (a1.mean(1) + eye) / 2
    torch.testing.assert_close(attention_rollout([a0, a1]), A1 @ A0)
    assert not torch.allclose(A1 @ A0, A0 @ A1)  # the order is what is tested
    torch.testing.assert_close(attention_rollout([a0, a1], layer=0), A0)
    torch.testing.assert_close(attention_rollout([a0, a1]).sum(-1), torch.ones(1, 5))


def test_discarding_weak_weights_keeps_rows_stochastic_and_sharpens_the_flow():
    torch.manual_seed(2)
    maps = [torch.rand(2, 3, 6, 6).softmax(-1) for _ in range(3)]
    plain, sharp = attention_rollout(maps), attention_rollout(maps, discard_ratio=0.8)
    torch.testing.assert_close(sharp.sum(-1), torch.ones(2, 6))
    assert (sharp == 0).sum() > (plain == 0).sum()
    torch.testing.assert_close(attention_rollout(maps, discard_ratio=0.0), plain)
    with pytest.raises(ValueError, match="discard_ratio"):
        attention_rollout(maps, discard_ratio=1.0)


def test_tokens_that_attend_only_to_themselves_roll_out_to_the_identity():
    maps = [torch.eye(4).expand(2, 3, 4, 4)] * 3
    torch.testing.assert_close(attention_rollout(maps), torch.eye(4).expand(2, 4, 4))


def test_cls_mask_and_head_maps_cover_the_patch_grid():
    model = small_model()
    maps = attention_maps(model, torch.randn(2, 3, 16, 16))
    mask = cls_mask(attention_rollout(maps), (4, 4))
    assert mask.shape == (2, 4, 4)
    torch.testing.assert_close(mask.sum((1, 2)), torch.ones(2))
    assert head_maps(maps[-1], (4, 4)).shape == (2, 3, 4, 4)


def test_a_class_token_that_gathered_nothing_gives_a_uniform_mask_not_nan():
    rollout = torch.eye(5).expand(2, 5, 5).clone()  # the class token kept only itself
    torch.testing.assert_close(cls_mask(rollout, (2, 2)), torch.full((2, 2, 2), 0.25))


def test_mass_in_box_of_a_uniform_mask_is_the_box_area():
    mask = torch.full((2, 4, 4), 1 / 16)
    boxes = torch.tensor([[0, 0, 8, 8], [2, 4, 10, 8]])  # 64 and 32 of 256 pixels
    torch.testing.assert_close(mass_in_box(mask, boxes, 16), torch.tensor([0.25, 0.125]))
    peaked = torch.zeros(1, 4, 4)
    peaked[0, 1, 0] = 1  # the patch covering pixels x 0..3, y 4..7
    assert mass_in_box(peaked, torch.tensor([[0, 4, 2, 8]]), 16).item() == pytest.approx(0.5)


# --- studykit attention ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    assert main(["train", "--dataset", "shapes", "--img-size", "16", "--embed-dim", "16", "--depth", "2",
                 "--num-heads", "2", "--epochs", "1", "--batch-size", "32", "--train-size", "64",
                 "--val-size", "32", "--out", str(out), "--threads", "1"]) == 0
    return out / "best.pt"


def _png_size(path):
    with Image.open(path) as img:
        return img.format, img.size


@pytest.mark.parametrize("mode,size", [("RGBA", (301, 97)), ("L", (40, 40)), ("RGB", (1000, 700)), ("P", (20, 64))])
def test_attention_png_for_any_image_mode_and_size(tmp_path, checkpoint, mode, size):
    src = tmp_path / f"in_{mode}.png"
    Image.new(mode, size, 120 if mode in ("L", "P") else (200, 30, 30, 128)[: len(mode)]).save(src)
    out = tmp_path / "att.png"
    assert main(["attention", str(src), "--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    fmt, (w, h) = _png_size(out)
    assert fmt == "PNG" and w > 300 and h > 300


def test_attention_with_a_named_model_and_a_layer(tmp_path, capsys):
    src = tmp_path / "x.jpg"
    Image.new("RGB", (50, 80), (10, 200, 10)).save(src)
    assert main(["attention", str(src), "--model", "vit_tiny_patch16_224", "--layer", "2"]) == 0
    assert (tmp_path / "x.attention.png").is_file()
    assert "random weights" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["not_an_image", "missing", "layer", "no_model", "wrong_model"])
def test_bad_input_is_one_line_and_exit_2(tmp_path, checkpoint, case, capsys):
    good = tmp_path / "ok.png"
    Image.new("RGB", (16, 16)).save(good)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    argv = {
        "not_an_image": [str(bad), "--checkpoint", str(checkpoint)],
        "missing": [str(tmp_path / "none.png"), "--checkpoint", str(checkpoint)],
        "layer": [str(good), "--checkpoint", str(checkpoint), "--layer", "7"],
        "no_model": [str(good)],
        "wrong_model": [str(good), "--checkpoint", str(checkpoint), "--model", "vit_tiny_patch16_224"],
    }[case]
    assert main(["attention", *argv]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("studykit: error:"), err
    if case == "wrong_model":
        assert "shape mismatch" in lines[0] and "pos_embed" in lines[0]
