"""A Swin Transformer written from scratch, layered like timm and annotated to teach.

Names are loaded on first use, so that reading the equation registry (`swin_impl.equations`)
does not import torch.
"""

import importlib

_EXPORTS = {
    "PatchEmbed": "swin_impl.model",
    "WindowAttention": "swin_impl.blocks",
    "SwinTransformerBlock": "swin_impl.blocks",
    "PatchMerging": "swin_impl.stages",
    "SwinTransformerStage": "swin_impl.stages",
    "SwinTransformer": "swin_impl.model",
    "window_partition": "swin_impl.windows",
    "window_reverse": "swin_impl.windows",
    "create_model": "swin_impl.configs",
    "list_models": "swin_impl.configs",
    "load_checkpoint": "swin_impl.checkpoint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'swin_impl' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
