"""vit_impl's ViT against timm's, number for number: outputs, gradients, parameter counts, errors."""

import pytest
import torch

timm = pytest.importorskip("timm")
from timm.models.vision_transformer import VisionTransformer as TimmViT  # noqa: E402

import vit_impl  # noqa: E402
from vit_impl.model import Attention, DropPath, VisionTransformer, num_params  # noqa: E402

TINY = dict(img_size=32, patch_size=8, embed_dim=48, depth=2, num_heads=3, num_classes=10)
CONFIGS = {
    "tiny": TINY,
    "odd": dict(img_size=64, patch_size=8, embed_dim=96, depth=3, num_heads=4, num_classes=7),
    "avg-pool-no-cls": {**TINY, "class_token": False, "global_pool": "avg"},
    "no-qkv-bias": {**TINY, "qkv_bias": False},
    "mlp-ratio-2": {**TINY, "mlp_ratio": 2.0},
    "non-square": {**TINY, "img_size": (32, 48), "patch_size": 16},
    "two-channels-no-head": {**TINY, "in_chans": 2, "num_classes": 0},
}
PARAMS_AT_1000_CLASSES = {
    "vit_tiny_patch16_224": 5_717_416,
    "vit_small_patch16_224": 22_050_664,
    "vit_base_patch16_224": 86_567_656,
    "vit_base_patch32_224": 88_224_232,
    "vit_large_patch16_224": 304_326_632,
    "vit_huge_patch14_224": 632_045_800,
}


def twin_models(kw: dict) -> tuple[torch.nn.Module, torch.nn.Module]:
    """A timm ViT with non-trivial weights, and ours with its state dict loaded strictly."""
    torch.manual_seed(0)
    theirs = TimmViT(**kw)
    with torch.no_grad():  # timm's init leaves LayerNorms at 1/0 and cls near 0; shake every weight
        for p in theirs.parameters():
            p.add_(0.1 * torch.randn_like(p))
    ours = VisionTransformer(**kw)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return ours, theirs


def example_input(kw: dict, batch: int = 2) -> torch.Tensor:
    size = kw["img_size"] if isinstance(kw["img_size"], tuple) else (kw["img_size"],) * 2
    return torch.randn(batch, kw.get("in_chans", 3), *size, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("name", CONFIGS)
def test_outputs_and_gradients_equal_timm(name):
    kw = CONFIGS[name]
    ours, theirs = twin_models(kw)
    ours.eval(), theirs.eval()
    x = example_input(kw)
    outputs = []
    for model in (ours, theirs):
        xi = x.clone().requires_grad_(True)
        y = model(xi)
        # A random projection of the output, so every output element gets its own gradient.
        (y * torch.randn(y.shape, generator=torch.Generator().manual_seed(2))).sum().backward()
        outputs.append((y.detach(), xi.grad, {n: p.grad for n, p in model.named_parameters()}))
    (y_o, gx_o, g_o), (y_t, gx_t, g_t) = outputs

    expected_width = kw["num_classes"] or kw["embed_dim"]
    assert y_o.shape == (2, expected_width)
    torch.testing.assert_close(y_o, y_t, rtol=0, atol=1e-5)
    torch.testing.assert_close(gx_o, gx_t, rtol=0, atol=1e-5)
    assert g_o.keys() == g_t.keys()
    for key in g_t:
        assert g_o[key] is not None, f"{key} got no gradient"
        torch.testing.assert_close(g_o[key], g_t[key], rtol=0, atol=1e-5, msg=lambda m, k=key: f"{k}: {m}")


def test_state_dict_keys_and_shapes_are_timms():
    ours, theirs = twin_models(CONFIGS["odd"])
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}


@pytest.mark.parametrize("name", PARAMS_AT_1000_CLASSES)
def test_parameter_count_of_named_models(name):
    with torch.device("meta"):  # no memory: only shapes are made
        ours = vit_impl.create_model(name)
        theirs = timm.create_model(name, pretrained=False, num_classes=1000)  # timm's huge defaults to 0
    assert num_params(ours) == PARAMS_AT_1000_CLASSES[name] == num_params(theirs)


def test_create_model_overrides_and_lists_names():
    with torch.device("meta"):
        model = vit_impl.create_model("vit_base_patch16_224", num_classes=10, img_size=384)
    assert model.head.out_features == 10
    assert model.pos_embed.shape == (1, 1 + 24 * 24, 768)
    assert set(PARAMS_AT_1000_CLASSES) <= set(vit_impl.list_models())


@pytest.mark.parametrize("name", ["tiny", "avg-pool-no-cls"])
def test_explicit_attention_path_matches_fused(name):
    kw = CONFIGS[name]
    model, _ = twin_models(kw)
    model.eval()
    x = example_input(kw)
    fused = model(x)
    for block in model.blocks:
        block.attn.fused_attn = False
    torch.testing.assert_close(model(x), fused, rtol=0, atol=1e-5)


def test_attention_returns_one_tensor_and_its_weights_come_from_a_hook():
    torch.manual_seed(0)
    attn = Attention(48, num_heads=3, qkv_bias=True).eval()
    x = torch.randn(2, 17, 48)
    fused = attn(x)
    attn.fused_attn = False
    seen = []
    handle = attn.attn_drop.register_forward_hook(lambda _m, args, _out: seen.append(args[0]))
    out = attn(x)
    handle.remove()
    assert isinstance(out, torch.Tensor) and isinstance(fused, torch.Tensor)
    assert out.shape == (2, 17, 48)
    torch.testing.assert_close(out, fused, rtol=0, atol=1e-5)  # the fused default gives the same output
    [weights] = seen
    assert weights.shape == (2, 3, 17, 17)
    assert (weights >= 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 17))


@pytest.mark.parametrize(
    ("build", "numbers"),
    [
        (lambda: VisionTransformer(**{**TINY, "embed_dim": 50, "num_heads": 3}), ["50", "3"]),
        (lambda: Attention(100, num_heads=8), ["100", "8"]),
        (lambda: VisionTransformer(**{**TINY, "img_size": 30}), ["30x30", "8x8"]),
        (lambda: VisionTransformer(**{**TINY, "global_pool": "max"}), ["max"]),
        (lambda: VisionTransformer(**{**TINY, "class_token": False}), ["class_token"]),
        (lambda: vit_impl.create_model("vit_gigantic_patch16_224"), ["vit_gigantic_patch16_224"]),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_numbers(build, numbers):
    with pytest.raises(ValueError) as err:
        build()
    for number in numbers:
        assert number in str(err.value)


@pytest.mark.parametrize(
    ("shape", "got"),
    [((1, 1, 32, 32), "(1, 1, 32, 32)"), ((1, 3, 48, 48), "(1, 3, 48, 48)"), ((3, 32, 32), "(3, 32, 32)")],
)
def test_wrong_input_at_forward_names_expected_and_actual_shape(shape, got):
    model = VisionTransformer(**TINY)
    with pytest.raises(ValueError) as err:
        model(torch.zeros(shape))
    assert "(B, 3, 32, 32)" in str(err.value) and got in str(err.value)


DROPPY = {**TINY, "drop_rate": 0.2, "pos_drop_rate": 0.1, "proj_drop_rate": 0.1, "attn_drop_rate": 0.1,
          "drop_path_rate": 0.3}


def test_dropout_and_drop_path_are_random_in_training_and_off_in_eval():
    model, _ = twin_models(DROPPY)
    x = example_input(DROPPY)
    model.train()
    assert not torch.allclose(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))


def test_training_mode_draws_the_same_random_masks_as_timm():
    """Same seed, same dropout places and rates: train-mode outputs match timm's exactly."""
    ours, theirs = twin_models(DROPPY)
    ours.train(), theirs.train()
    x = example_input(DROPPY)
    torch.manual_seed(3)
    y_o = ours(x)
    torch.manual_seed(3)
    y_t = theirs(x)
    torch.testing.assert_close(y_o, y_t, rtol=0, atol=1e-5)


def test_drop_path_drops_whole_samples_and_keeps_the_mean():
    torch.manual_seed(0)
    out = DropPath(0.25).train()(torch.ones(4000, 5, 3))
    per_sample = out.reshape(4000, -1)
    # Each sample is either dropped whole or kept whole and rescaled by 1 / keep.
    torch.testing.assert_close(per_sample.unique(), torch.tensor([0.0, 1 / 0.75]))
    assert (per_sample == per_sample[:, :1]).all()
    assert abs(per_sample.mean().item() - 1.0) < 0.05
    assert torch.equal(DropPath(1.0).train()(torch.ones(3, 2)), torch.zeros(3, 2))  # not NaN
