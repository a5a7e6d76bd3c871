"""The model, optimizer and learning-rate schedule a training configuration asks for."""

from __future__ import annotations

import math

import torch
from torch import nn

from vit_impl.train_config import SIZE_OPTIONS, TrainConfig, TrainError


def model_kwargs(config: TrainConfig, num_classes: int) -> dict:
    """Constructor keywords of the VisionTransformer the configuration asks for."""
    if config.model:
        from vit_impl.configs import model_config

        try:
            kw = model_config(config.model, img_size=config.img_size, num_classes=num_classes)
        except ValueError as err:
            raise TrainError(str(err)) from None
        kw.update({key: getattr(config, key) for key in config.size_overrides})
    else:
        kw = dict(img_size=config.img_size, num_classes=num_classes,
                  **{key: getattr(config, key) for key in SIZE_OPTIONS})
    kw["drop_path_rate"] = config.drop_path
    return kw


def build_model(kw: dict) -> nn.Module:
    from vit_impl.model import VisionTransformer

    try:
        return VisionTransformer(**kw)
    except ValueError as err:
        raise TrainError(f"model: {err}") from None


def warmup_cosine(warmup_steps: int, total_steps: int):
    """lr factor: linear warmup to 1, then cosine decay to 0 (Loshchilov & Hutter's SGDR, no restarts)."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    return factor


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW; no weight decay on biases, norms, the class token and E_pos (as timm and DeiT do)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or name in ("cls_token", "pos_embed") else decay).append(p)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, 0.999))
