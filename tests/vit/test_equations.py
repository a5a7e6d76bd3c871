"""The equation registry of arXiv 2010.11929: found through entry points, torch-free at import,
and every equation's module and code cell really computes that equation."""

import importlib
import subprocess
import sys

import pytest
import torch

from studykit.papers import arxiv_id, find_registry, registries
from vit_impl.equations import REGISTRY

EXPECTED_IDS = ["Eq.1", "Eq.2", "Eq.3", "Eq.4"]


def test_importing_the_registry_and_discovery_does_not_import_torch():
    code = (
        "import sys, vit_impl.equations, studykit.papers\n"
        "assert studykit.papers.find_registry('2010.11929') is not None\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_entry_point_discovery_finds_the_vit_registry():
    found = registries()
    assert found["2010.11929"] is REGISTRY
    assert REGISTRY.model == "vit_base_patch16_224"


@pytest.mark.parametrize(
    "arxiv, title",
    [
        ("2010.11929", ""),
        ("2010.11929v2", ""),
        ("arXiv:2010.11929v1", ""),
        ("https://arxiv.org/abs/2010.11929v2", ""),
        ("", "an image is worth 16X16 words - transformers for image recognition at scale"),
        ("9999.00001", "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale"),
    ],
)
def test_find_registry_by_arxiv_id_any_version_or_by_title(arxiv, title):
    assert find_registry(arxiv=arxiv, title=title) is REGISTRY


def test_find_registry_returns_none_for_an_unknown_paper():
    assert find_registry(arxiv="1706.03762", title="Attention Is All You Need") is None
    assert find_registry() is None
    assert arxiv_id("no id here") == ""


def test_the_four_equations_are_complete():
    assert [eq.id for eq in REGISTRY.equations] == EXPECTED_IDS
    for eq in REGISTRY.equations:
        assert eq.title and eq.meaning and eq.code
        assert eq.latex.count("{") == eq.latex.count("}"), f"{eq.id}: unbalanced braces in LaTeX"
        module_name, qualname = eq.module.split(":")
        target = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
        assert callable(target)
    assert REGISTRY.equation("Eq.3").title.startswith("MLP")
    with pytest.raises(KeyError, match="Eq.1, Eq.2, Eq.3, Eq.4"):
        REGISTRY.equation("Eq.5")


EXPECTED_OUTPUT = {
    "Eq.1": [("images", (2, 3, 224, 224)), ("x_p E", (2, 196, 768)), ("[x_class; x_p E]", (2, 197, 768)),
             ("z_0", (2, 197, 768))],
    "Eq.2": [("z_{l-1}", (2, 197, 768)), ("qkv", (2, 197, 2304)), ("z'_l", (2, 197, 768))],
    "Eq.3": [("fc1 + GELU", (2, 197, 3072)), ("z_l", (2, 197, 768))],
    "Eq.4": [("z_L^0", (2, 768)), ("y", (2, 768)), ("head(y)", (2, 1000))],
}


@pytest.mark.parametrize("eq_id", EXPECTED_IDS)
def test_each_code_cell_runs_alone_and_prints_its_shapes(eq_id, tmp_path, run_alone):
    code = REGISTRY.equation(eq_id).code
    assert "import torch" in code
    result = run_alone(code, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = {line[:17].strip(): line[17:].strip() for line in result.stdout.splitlines()}
    for label, shape in EXPECTED_OUTPUT[eq_id]:
        assert lines[label].startswith(str(shape)), (label, result.stdout)


@pytest.mark.parametrize(
    "eq_id, module_class, out_shape",
    [("Eq.1", "Embedding", (2, 197, 768)), ("Eq.2", "AttentionSublayer", (2, 197, 768)),
     ("Eq.3", "MlpSublayer", (2, 197, 768)), ("Eq.4", "ClassTokenNorm", (2, 768))],
)
def test_build_gives_the_named_module_and_an_example_it_runs_on(eq_id, module_class, out_shape):
    eq = REGISTRY.equation(eq_id)
    module, x = eq.build()
    assert type(module).__name__ == module_class == eq.module.split(":")[1]
    assert not module.training
    with torch.no_grad():
        assert tuple(module(x).shape) == out_shape


def test_the_equation_modules_in_sequence_compute_the_model():
    from vit_impl.model import VisionTransformer
    from vit_impl.sublayers import AttentionSublayer, ClassTokenNorm, Embedding, MlpSublayer

    torch.manual_seed(0)
    vit = VisionTransformer(img_size=32, patch_size=8, embed_dim=48, depth=3, num_heads=4, num_classes=5).eval()
    with torch.no_grad():
        for p in vit.parameters():  # move LayerNorms and the class token off their trivial init
            p.add_(0.1 * torch.randn_like(p))
        images = torch.randn(2, 3, 32, 32)
        z = Embedding(vit)(images)  # Eq.1
        for block in vit.blocks:
            z = MlpSublayer(block)(AttentionSublayer(block)(z))  # Eq.2, Eq.3
        y = ClassTokenNorm(vit)(z)  # Eq.4
        torch.testing.assert_close(y, vit.forward_features(images)[:, 0], rtol=0, atol=1e-6)
        torch.testing.assert_close(vit.head(y), vit(images), rtol=0, atol=1e-6)
