"""Load a timm ViT checkpoint file (.pth, .pt or .safetensors) into a vit_impl model, or build the model a
`studykit train` checkpoint names."""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vit_impl.checkpoint_file import mismatches, read_state_dict
from vit_impl.configs import list_models, model_config
from vit_impl.data import CIFAR10_MEAN, CIFAR10_STD, SHAPES_MEAN, SHAPES_STD
from vit_impl.model import VisionTransformer

def load_checkpoint(model: nn.Module, path: str | Path) -> nn.Module:
    """Load the weights at `path` into `model` strictly, resizing the position embedding if the grid differs.

    Raises ValueError naming the file and the missing, unexpected and mis-shaped keys.
    """
    path = Path(path)
    state = _fit_pos_embed(model, read_state_dict(path), path)
    problems = mismatches(model.state_dict(), state)
    if problems:
        raise ValueError(f"{path}: checkpoint does not fit {type(model).__name__}:\n" + "\n".join(problems))
    model.load_state_dict(state, strict=True)
    return model


def _fit_pos_embed(model: nn.Module, state: dict[str, torch.Tensor], path: Path) -> dict[str, torch.Tensor]:
    """Resize the checkpoint's E_pos to the model's patch grid (a model built for another image size)."""
    ours, theirs = getattr(model, "pos_embed", None), state.get("pos_embed")
    if ours is None or theirs is None or ours.shape == theirs.shape:
        return state
    prefix = model.num_prefix_tokens
    same_prefix = ("cls_token" in state) == (getattr(model, "cls_token", None) is not None)
    if not same_prefix or theirs.ndim != 3 or theirs.shape[-1] != ours.shape[-1]:
        return state  # a different model, not a different image size: the mismatch report says so
    try:
        resized = resize_pos_embed(theirs, model.patch_embed.grid_size, prefix)
    except ValueError as err:
        raise ValueError(f"{path}: cannot resize pos_embed {tuple(theirs.shape)}: {err}") from err
    return {**state, "pos_embed": resized}


def resize_pos_embed(pos_embed: torch.Tensor, new_grid: tuple[int, int], num_prefix_tokens: int) -> torch.Tensor:
    """Bicubic-resize a (1, prefix + h*w, D) position embedding to another patch grid."""
    prefix, grid = pos_embed[:, :num_prefix_tokens], pos_embed[:, num_prefix_tokens:]
    old = int(math.sqrt(grid.shape[1]))
    if old * old != grid.shape[1]:
        raise ValueError(f"position embedding of {grid.shape[1]} patches is not a square grid")
    D = grid.shape[-1]
    grid = grid.reshape(1, old, old, D).permute(0, 3, 1, 2)  # (1, D, h, w)
    grid = F.interpolate(grid.float(), size=new_grid, mode="bicubic", antialias=True, align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, new_grid[0] * new_grid[1], D).to(pos_embed.dtype)
    return torch.cat([prefix, grid], dim=1)


def load_model(path: Path | None, name: str | None) -> tuple[nn.Module, tuple, tuple, str | None]:
    """An eval-mode model from a checkpoint (`name` says which model where the file does not) or `name`'s
    random weights, with the input (mean, std) it was trained with and its dataset (None when unknown).

    Raises ValueError with the reason, naming the file.
    """
    imagenet = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))  # timm's ViT normalisation
    saved = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path}: no such checkpoint file")
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # load_checkpoint below gives the precise reason
            saved = {}
        saved = saved if isinstance(saved, dict) else {}
    if name is not None:
        if name not in list_models():
            raise ValueError(f"unknown model {name!r}; known: {', '.join(list_models())}")
        kw = model_config(name)
    elif "model_config" in saved:
        kw = saved["model_config"]
    else:
        raise ValueError(f"{path}: not a `studykit train` checkpoint; say which model it is with --model NAME")
    torch.manual_seed(0)
    model = VisionTransformer(**kw)
    if path is not None:
        load_checkpoint(model, path)
    dataset = saved.get("config", {}).get("dataset")
    mean, std = {"shapes": (SHAPES_MEAN, SHAPES_STD), "cifar10": (CIFAR10_MEAN, CIFAR10_STD)}.get(dataset, imagenet)
    return model.eval(), mean, std, dataset
