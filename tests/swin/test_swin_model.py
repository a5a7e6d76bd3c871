"""swin_impl against timm's Swin Transformer: state dicts, outputs, gradients, parameter counts, checkpoints."""

from __future__ import annotations

import re

import pytest
import torch

timm = pytest.importorskip("timm")
from timm.models.swin_transformer import checkpoint_filter_fn  # noqa: E402

from swin_impl.checkpoint import load_checkpoint  # noqa: E402
from swin_impl.configs import create_model, list_models  # noqa: E402
from swin_impl.blocks import SwinTransformerBlock  # noqa: E402
from swin_impl.model import SwinTransformer  # noqa: E402
from swin_impl.stages import PatchMerging  # noqa: E402
from swin_impl.windows import window_partition, window_reverse  # noqa: E402

# Small configurations: a window that divides the map, a window that needs padding, odd maps for
# patch merging, and a non-square image with another patch, window and head size.
CONFIGS = {
    "window4-64px": dict(img_size=64, patch_size=4, window_size=4, embed_dim=16, depths=(2, 2, 2, 2),
                         num_heads=(1, 2, 2, 4), num_classes=10),
    "window7-96px-padded": dict(img_size=96, patch_size=4, window_size=7, embed_dim=16, depths=(2, 4, 2, 1),
                                num_heads=(2, 2, 4, 4), num_classes=7),
    "window7-100px-odd-merging": dict(img_size=100, patch_size=4, window_size=7, embed_dim=8, depths=(2, 2, 2),
                                      num_heads=(1, 2, 2), num_classes=5),  # 25x25 tokens -> 13x13 -> 7x7
    "window5-64x96-3stages": dict(img_size=(64, 96), patch_size=2, window_size=5, embed_dim=12, depths=(2, 2, 2),
                                  num_heads=(2, 2, 4), num_classes=3, head_dim=8),
}


def _pair_of_models(cfg, **extra):
    torch.manual_seed(0)
    ref = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False, **cfg, **extra)
    ours = SwinTransformer(**cfg, **extra)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ref, ours


def _images(cfg, batch=2):
    size = cfg["img_size"]
    h, w = (size, size) if isinstance(size, int) else size
    return torch.randn(batch, 3, h, w)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_outputs_and_every_gradient_equal_timms(name):
    cfg = CONFIGS[name]
    ref, ours = _pair_of_models(cfg, drop_path_rate=0.0)
    x = _images(cfg)
    ref.train(), ours.train()
    out_ref, out = ref(x), ours(x)
    assert out.shape == (2, cfg["num_classes"])
    torch.testing.assert_close(out, out_ref, atol=1e-5, rtol=0)
    target = torch.randn_like(out)
    (out_ref * target).sum().backward()
    (out * target).sum().backward()
    for (key, p_ref), (key_ours, p) in zip(ref.named_parameters(), ours.named_parameters(), strict=True):
        assert key == key_ours
        torch.testing.assert_close(p.grad, p_ref.grad, atol=1e-5, rtol=0, msg=lambda m: f"{key}: {m}")


def test_stochastic_depth_draws_the_same_coins_as_timm():
    cfg = CONFIGS["window4-64px"]
    ref, ours = _pair_of_models(cfg, drop_path_rate=0.5)
    x = _images(cfg, batch=8)
    ref.train(), ours.train()
    torch.manual_seed(1)
    out_ref = ref(x)
    torch.manual_seed(1)
    out = ours(x)
    torch.testing.assert_close(out, out_ref, atol=1e-5, rtol=0)
    torch.manual_seed(2)
    assert not torch.allclose(ours(x), out, atol=1e-3), "drop path 0.5 in training mode changed nothing"


def test_buffers_are_timms_and_not_saved():
    cfg = CONFIGS["window7-96px-padded"]
    ref, ours = _pair_of_models(cfg)
    ref_buffers, our_buffers = dict(ref.named_buffers()), dict(ours.named_buffers())
    assert ref_buffers.keys() == our_buffers.keys()
    for key, buf in ref_buffers.items():
        assert torch.equal(our_buffers[key].to(buf.dtype), buf), key
    assert not any(k.endswith(("relative_position_index", "attn_mask")) for k in ours.state_dict())


@pytest.mark.parametrize(
    "name, params",
    [
        ("swin_tiny_patch4_window7_224", 28_288_354),
        ("swin_small_patch4_window7_224", 49_606_258),
        ("swin_base_patch4_window7_224", 87_768_224),
    ],
)
def test_parameter_counts_and_state_dict_shapes_are_timms(name, params):
    with torch.device("meta"):
        ours = create_model(name)
        ref = timm.create_model(name)
    assert sum(p.numel() for p in ours.parameters()) == params
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in ref.state_dict().items()}


def test_every_named_model_is_a_timm_model_with_the_same_state_dict():
    for name in list_models():
        with torch.device("meta"):
            ours, ref = create_model(name), timm.create_model(name)
        assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in ref.state_dict().items()}


@pytest.mark.slow
def test_swin_tiny_at_224_matches_timm():
    torch.manual_seed(0)
    ref = timm.create_model("swin_tiny_patch4_window7_224").eval()
    ours = create_model("swin_tiny_patch4_window7_224").eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=0)


def test_fused_attention_computes_the_explicit_sum():
    cfg = CONFIGS["window4-64px"]
    _, ours = _pair_of_models(cfg)
    ours.eval()
    x = _images(cfg)
    with torch.no_grad():
        explicit = ours(x)
        for m in ours.modules():
            if hasattr(m, "fused_attn"):
                m.fused_attn = True
        torch.testing.assert_close(ours(x), explicit, atol=1e-5, rtol=0)


def test_window_reverse_undoes_window_partition():
    x = torch.randn(2, 12, 8, 5)
    windows = window_partition(x, (4, 4))
    assert windows.shape == (2 * 3 * 2, 4, 4, 5)
    assert torch.equal(windows[1], x[0, 0:4, 4:8])  # windows go row by row: the second is top-right
    assert torch.equal(window_reverse(windows, (4, 4), 12, 8), x)


def test_shifted_block_rolls_back_every_token():
    """With attention and MLP switched off, a shifted block must hand every token back where it was."""
    block = SwinTransformerBlock(dim=4, input_resolution=8, num_heads=1, window_size=4, shift_size=2).eval()
    assert block.shift_size == (2, 2) and block.attn_mask.shape == (4, 16, 16)
    with torch.no_grad():
        block.attn.qkv.weight.zero_(), block.attn.qkv.bias.zero_()
        block.attn.qkv.weight[8:].copy_(torch.eye(4))  # q = k = 0, v = x
        block.attn.proj.weight.copy_(torch.eye(4)), block.attn.proj.bias.zero_()
        block.attn.relative_position_bias_table.zero_()
    x = torch.randn(1, 8, 8, 4)
    with torch.no_grad():
        attn = block._attn(x)  # q = k = 0: every token averages the tokens it may see
    # The token at the top-left corner sits in a window of the shifted map whose 4x4 tokens all came
    # from the top-left region (rows/cols 2..5 of the original map after rolling back), unmasked.
    assert torch.allclose(attn[0, 2, 2], x[0, 2:6, 2:6].mean(dim=(0, 1)), atol=1e-6)
    # The bottom-right token was rolled into the corner window with tokens from the other side: the
    # mask keeps it with the 2x2 tokens of its own region only.
    assert torch.allclose(attn[0, 7, 7], x[0, 6:8, 6:8].mean(dim=(0, 1)), atol=1e-6)


def test_block_on_a_map_no_larger_than_the_window_neither_shifts_nor_masks():
    block = SwinTransformerBlock(dim=8, input_resolution=7, num_heads=2, window_size=7, shift_size=3)
    assert block.shift_size == (0, 0) and block.attn_mask is None  # swin_tiny's last stage at 224


def test_patch_merging_concatenates_top_left_bottom_left_top_right_bottom_right():
    merge = PatchMerging(dim=1)
    with torch.no_grad():
        merge.norm.weight.fill_(1.0), merge.norm.bias.zero_()
    x = torch.arange(16.0).view(1, 4, 4, 1)
    captured = {}
    merge.norm.register_forward_hook(lambda m, args, out: captured.setdefault("in", args[0]))
    out = merge(x)
    assert out.shape == (1, 2, 2, 2)
    assert captured["in"][0, 0, 0].tolist() == [0.0, 4.0, 1.0, 5.0]  # (0,0), (1,0), (0,1), (1,1)


def test_patch_embed_rejects_an_image_of_another_size():
    model = SwinTransformer(**CONFIGS["window4-64px"])
    with pytest.raises(ValueError, match=r"expects input \(B, 3, 64, 64\), got \(1, 3, 32, 32\)"):
        model(torch.randn(1, 3, 32, 32))


# --- checkpoints ------------------------------------------------------------------------------------------


def _timm_small(window_size=4, img_size=64):
    torch.manual_seed(0)
    cfg = {**CONFIGS["window4-64px"], "window_size": window_size, "img_size": img_size}
    return cfg, timm.create_model("swin_tiny_patch4_window7_224", pretrained=False, **cfg).eval()


@pytest.mark.parametrize("wrapper, suffix", [(None, ".safetensors"), ("model", ".pth"), ("state_dict", ".pth")])
def test_load_checkpoint_reads_timm_files_and_wrappers(tmp_path, wrapper, suffix):
    cfg, ref = _timm_small()
    path = tmp_path / f"swin{suffix}"
    state = {k: v.contiguous() for k, v in ref.state_dict().items()}
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, path)
    else:
        torch.save({wrapper: state, "epoch": 3}, path)
    ours = load_checkpoint(SwinTransformer(**cfg).eval(), path)
    x = _images(cfg)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=0)


def test_load_checkpoint_resizes_the_bias_tables_as_timm_does(tmp_path):
    """A checkpoint learned with 4x4 windows in a model with 8x8 windows (a larger image): timm's filter as reference."""
    _, trained = _timm_small(window_size=4)
    path = tmp_path / "w4.pth"
    torch.save(trained.state_dict(), path)
    cfg, ref = _timm_small(window_size=8, img_size=128)
    ref.load_state_dict(checkpoint_filter_fn(trained.state_dict(), ref), strict=True)
    ours = load_checkpoint(SwinTransformer(**cfg).eval(), path)
    key = "layers.0.blocks.0.attn.relative_position_bias_table"
    assert ours.state_dict()[key].shape == (15 * 15, 1)
    torch.testing.assert_close(ours.state_dict()[key], ref.state_dict()[key], atol=1e-6, rtol=0)
    x = _images(cfg)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=0)


def test_load_checkpoint_reads_the_papers_own_layout(tmp_path):
    """Microsoft's checkpoints: patch merging at the end of the stage before, `head.weight`, saved buffers.

    The layout is the one timm's checkpoint_filter_fn undoes (timm/models/swin_transformer.py).
    """
    cfg, ref = _timm_small()
    original = {}
    for key, value in ref.state_dict().items():
        key = re.sub(r"layers\.(\d+)\.downsample", lambda m: f"layers.{int(m.group(1)) - 1}.downsample", key)
        original[key.replace("head.fc.", "head.")] = value
    for name, buf in ref.named_buffers():
        original[name] = buf
    torch.save({"model": original}, tmp_path / "swin_tiny_patch4_window7_224.pth")
    ours = load_checkpoint(SwinTransformer(**cfg).eval(), tmp_path / "swin_tiny_patch4_window7_224.pth")
    x = _images(cfg)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=0)


def test_load_checkpoint_of_another_model_names_the_file_and_the_keys(tmp_path):
    _, ref = _timm_small()
    path = tmp_path / "small.pth"
    torch.save(ref.state_dict(), path)
    other = SwinTransformer(**{**CONFIGS["window4-64px"], "embed_dim": 32})
    with pytest.raises(ValueError, match=r"small\.pth: checkpoint does not fit SwinTransformer:\n  shape mismatch"):
        load_checkpoint(other, path)


def test_load_checkpoint_of_a_file_that_is_no_checkpoint(tmp_path):
    path = tmp_path / "notes.pth"
    path.write_text("not a checkpoint")
    with pytest.raises(ValueError, match=r"notes\.pth: not a (readable )?checkpoint"):
        load_checkpoint(SwinTransformer(**CONFIGS["window4-64px"]), path)
