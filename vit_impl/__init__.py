"""A Vision Transformer written from scratch, layered like timm and annotated to teach.

Names are loaded on first use, so that reading the equation registry (`vit_impl.equations`)
does not import torch.
"""

import importlib

_EXPORTS = {
    "PatchEmbed": "vit_impl.model",
    "Attention": "vit_impl.model",
    "Mlp": "vit_impl.model",
    "MLP": "vit_impl.model",
    "Block": "vit_impl.model",
    "VisionTransformer": "vit_impl.model",
    "create_model": "vit_impl.configs",
    "list_models": "vit_impl.configs",
    "load_checkpoint": "vit_impl.checkpoint",
    "attention_maps": "vit_impl.attention",
    "attention_rollout": "vit_impl.attention",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'vit_impl' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
