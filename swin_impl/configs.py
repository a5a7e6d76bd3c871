"""Named Swin configurations, the same names and hyper-parameters as timm's (Table 1 of the paper: T, S, B, L)."""

from __future__ import annotations

from swin_impl.model import SwinTransformer

MODEL_CONFIGS: dict[str, dict] = {
    "swin_tiny_patch4_window7_224": dict(embed_dim=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24)),
    "swin_small_patch4_window7_224": dict(embed_dim=96, depths=(2, 2, 18, 2), num_heads=(3, 6, 12, 24)),
    "swin_base_patch4_window7_224": dict(embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32)),
    "swin_base_patch4_window12_384": dict(
        img_size=384, window_size=12, embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32)
    ),
    "swin_large_patch4_window7_224": dict(embed_dim=192, depths=(2, 2, 18, 2), num_heads=(6, 12, 24, 48)),
    "swin_large_patch4_window12_384": dict(
        img_size=384, window_size=12, embed_dim=192, depths=(2, 2, 18, 2), num_heads=(6, 12, 24, 48)
    ),
}
_DEFAULTS = dict(img_size=224, patch_size=4, window_size=7)


def list_models() -> list[str]:
    return list(MODEL_CONFIGS)


def model_config(name: str, **overrides) -> dict:
    """The constructor keywords of a named model, with `overrides` applied."""
    if name not in MODEL_CONFIGS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODEL_CONFIGS)}")
    return {**_DEFAULTS, **MODEL_CONFIGS[name], **overrides}


def create_model(name: str, **overrides) -> SwinTransformer:
    """Build a named model, for example `create_model("swin_tiny_patch4_window7_224", num_classes=10)`."""
    return SwinTransformer(**model_config(name, **overrides))
