"""Named ViT configurations, the same names and hyper-parameters as timm's."""

from __future__ import annotations

from vit_impl.model import VisionTransformer

# Table 1 of the paper (Base, Large, Huge) plus DeiT's Tiny and Small; timm's names.
MODEL_CONFIGS: dict[str, dict] = {
    "vit_tiny_patch16_224": dict(patch_size=16, embed_dim=192, depth=12, num_heads=3),
    "vit_small_patch16_224": dict(patch_size=16, embed_dim=384, depth=12, num_heads=6),
    "vit_small_patch32_224": dict(patch_size=32, embed_dim=384, depth=12, num_heads=6),
    "vit_base_patch16_224": dict(patch_size=16, embed_dim=768, depth=12, num_heads=12),
    "vit_base_patch32_224": dict(patch_size=32, embed_dim=768, depth=12, num_heads=12),
    "vit_large_patch16_224": dict(patch_size=16, embed_dim=1024, depth=24, num_heads=16),
    "vit_large_patch32_224": dict(patch_size=32, embed_dim=1024, depth=24, num_heads=16),
    "vit_huge_patch14_224": dict(patch_size=14, embed_dim=1280, depth=32, num_heads=16),
}


def list_models() -> list[str]:
    return list(MODEL_CONFIGS)


def model_config(name: str, **overrides) -> dict:
    """The constructor keywords of a named model, with `overrides` applied."""
    if name not in MODEL_CONFIGS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODEL_CONFIGS)}")
    return {**MODEL_CONFIGS[name], **overrides}


def create_model(name: str, **overrides) -> VisionTransformer:
    """Build a named model, for example `create_model("vit_base_patch16_224", num_classes=10)`."""
    return VisionTransformer(**model_config(name, **overrides))
