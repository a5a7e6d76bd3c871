"""Loading timm checkpoint files into vit_impl: formats, wrappers, mismatches, resizing, bad files."""

import pytest
import torch

timm = pytest.importorskip("timm")
from safetensors.torch import save_file  # noqa: E402
from timm.layers import resample_abs_pos_embed  # noqa: E402
from timm.models.vision_transformer import VisionTransformer as TimmViT  # noqa: E402

from vit_impl import load_checkpoint  # noqa: E402
from vit_impl.model import VisionTransformer  # noqa: E402

KW = dict(img_size=32, patch_size=8, embed_dim=48, depth=2, num_heads=3, num_classes=5)


@pytest.fixture(scope="module")
def timm_model():
    torch.manual_seed(0)
    model = TimmViT(**KW).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model


def images(size=32):
    return torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("suffix", [".pth", ".pt", ".safetensors"])
def test_loaded_model_gives_timms_outputs(tmp_path, timm_model, suffix):
    path = tmp_path / f"vit{suffix}"
    if suffix == ".safetensors":
        save_file(timm_model.state_dict(), path)
    else:
        torch.save(timm_model.state_dict(), path)
    model = VisionTransformer(**KW).eval()
    assert load_checkpoint(model, str(path)) is model
    with torch.no_grad():
        torch.testing.assert_close(model(images()), timm_model(images()), rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "wrap",
    [
        lambda sd: {"model": sd, "optimizer": {"state": {}}, "epoch": 3},
        lambda sd: {"state_dict": sd, "arch": "vit"},
        lambda sd: {f"module.{k}": v for k, v in sd.items()},
        lambda sd: {"model": {f"module.{k}": v for k, v in sd.items()}, "epoch": 3},
    ],
    ids=["model", "state_dict", "module-prefix", "model+module-prefix"],
)
def test_training_checkpoint_wrappers_are_unwrapped(tmp_path, timm_model, wrap):
    path = tmp_path / "checkpoint.pth"
    torch.save(wrap(timm_model.state_dict()), path)
    model = load_checkpoint(VisionTransformer(**KW).eval(), path)
    for key, value in timm_model.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_checkpoint_of_another_configuration_names_keys_and_shapes(tmp_path, timm_model):
    path = tmp_path / "small.pth"
    torch.save(timm_model.state_dict(), path)
    model = VisionTransformer(**{**KW, "embed_dim": 96, "depth": 3, "num_classes": 7})
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError) as err:
        load_checkpoint(model, path)
    message = str(err.value)
    assert str(path) in message
    assert "missing keys" in message and "blocks.2.attn.qkv.weight" in message
    assert "blocks.0.attn.qkv.weight: checkpoint (144, 48), model (288, 96)" in message
    assert "shape mismatch (32)" in message
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # nothing half-loaded


def test_other_number_of_classes_names_the_head(tmp_path, timm_model):
    path = tmp_path / "imagenet.safetensors"
    save_file(timm_model.state_dict(), path)
    with pytest.raises(ValueError) as err:
        load_checkpoint(VisionTransformer(**{**KW, "num_classes": 10}), path)
    lines = str(err.value).splitlines()[1:]
    assert lines == ["  shape mismatch (2): head.weight: checkpoint (5, 48), model (10, 48); head.bias: checkpoint (5,), model (10,)"]


def test_unexpected_keys_are_named(tmp_path, timm_model):
    path = tmp_path / "extra.safetensors"
    save_file({**timm_model.state_dict(), "reg_token": torch.zeros(1, 4, 48)}, path)
    with pytest.raises(ValueError, match=r"unexpected keys \(1\): reg_token"):
        load_checkpoint(VisionTransformer(**KW), path)


def test_position_embedding_is_resized_bicubically_for_a_larger_image(tmp_path, timm_model):
    path = tmp_path / "vit32.pth"
    torch.save(timm_model.state_dict(), path)
    model = load_checkpoint(VisionTransformer(**{**KW, "img_size": 64}).eval(), path)
    # timm's own resize of a 4x4 grid to 8x8, keeping the class token's entry as it is
    expected = resample_abs_pos_embed(timm_model.pos_embed.detach(), new_size=(8, 8), num_prefix_tokens=1)
    assert model.pos_embed.shape == (1, 1 + 64, 48)
    torch.testing.assert_close(model.pos_embed.detach(), expected, rtol=0, atol=1e-6)
    # and the whole model then runs as timm's does when built at 64 with that same resized embedding
    theirs = TimmViT(**{**KW, "img_size": 64}).eval()
    theirs.load_state_dict({**timm_model.state_dict(), "pos_embed": expected})
    with torch.no_grad():
        torch.testing.assert_close(model(images(64)), theirs(images(64)), rtol=0, atol=1e-5)


def test_resize_without_class_token(tmp_path):
    kw = {**KW, "class_token": False, "global_pool": "avg"}
    state = TimmViT(**kw).state_dict()
    save_file(state, tmp_path / "avg.safetensors")
    model = load_checkpoint(VisionTransformer(**{**kw, "img_size": 48}), tmp_path / "avg.safetensors")
    expected = resample_abs_pos_embed(state["pos_embed"], new_size=(6, 6), num_prefix_tokens=0)
    torch.testing.assert_close(model.pos_embed.detach(), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("garbage.pth", b"this is not a checkpoint", "not a readable checkpoint"),
        ("code.pth", b"cos\nsystem\n(S'echo hi'\ntR.", "not a checkpoint of plain tensors"),
        ("empty.pth", b"", "not a readable checkpoint"),
        ("garbage.safetensors", b"\x00\x01not safetensors at all", "not a readable checkpoint"),
    ],
)
def test_corrupt_file_raises_value_error_naming_it(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=reason) as err:
        load_checkpoint(VisionTransformer(**KW), path)
    assert str(path) in str(err.value)


def test_truncated_checkpoint_raises_value_error(tmp_path, timm_model):
    path = tmp_path / "cut.pth"
    torch.save(timm_model.state_dict(), path)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ValueError, match="cut.pth: not a readable checkpoint"):
        load_checkpoint(VisionTransformer(**KW), path)


def test_missing_file_and_non_state_dict(tmp_path):
    with pytest.raises(ValueError, match="nowhere.pth: no such checkpoint file"):
        load_checkpoint(VisionTransformer(**KW), tmp_path / "nowhere.pth")
    torch.save({"epoch": 3, "lr": 0.1}, tmp_path / "meta.pth")
    with pytest.raises(ValueError, match="meta.pth: holds no state dict"):
        load_checkpoint(VisionTransformer(**KW), tmp_path / "meta.pth")
