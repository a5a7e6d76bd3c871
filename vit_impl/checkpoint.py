"""Load a timm ViT checkpoint file (.pth, .pt or .safetensors) into a vit_impl model, or build the model a
`studykit train` checkpoint names."""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vit_impl.configs import list_models, model_config
from vit_impl.data import CIFAR10_MEAN, CIFAR10_STD, SHAPES_MEAN, SHAPES_STD
from vit_impl.model import VisionTransformer

# Training scripts save {"model": state_dict, "optimizer": ..., "epoch": ...} or {"state_dict": ...}.
_WRAPPER_KEYS = ("state_dict", "model")
# Keys listed per kind in a mismatch error; a wrong depth would otherwise list hundreds.
_MAX_LISTED = 12


def load_checkpoint(model: nn.Module, path: str | Path) -> nn.Module:
    """Load the weights at `path` into `model` strictly, resizing the position embedding if the grid differs.

    Raises ValueError naming the file and the missing, unexpected and mis-shaped keys.
    """
    path = Path(path)
    state = _unwrap(_read(path), path)
    state = _fit_pos_embed(model, state, path)
    problems = _mismatches(model.state_dict(), state)
    if problems:
        raise ValueError(f"{path}: checkpoint does not fit {type(model).__name__}:\n" + "\n".join(problems))
    model.load_state_dict(state, strict=True)
    return model


def _read(path: Path) -> object:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise ValueError(f"{path}: no such checkpoint file")
    if path.suffix == ".safetensors":
        try:
            return load_file(path, device="cpu")
        except (OSError, SafetensorError) as err:
            raise ValueError(f"{path}: not a readable checkpoint ({err})") from err
    try:
        # weights_only: a checkpoint is data; never run code from a pickle we were handed.
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        # torch's own message suggests weights_only=False, which is the one thing not to do here.
        raise ValueError(f"{path}: not a checkpoint of plain tensors (corrupt, or it pickles code)") from err
    except Exception as err:  # a damaged pickle fails in arbitrary ways (EOFError, IndexError, RuntimeError...)
        # The first sentence: torch appends a paragraph of advice to its zip errors.
        reason = str(err).strip().split(". ")[0] or type(err).__name__
        raise ValueError(f"{path}: not a readable checkpoint, corrupt or truncated? ({reason})") from err


def _unwrap(obj: object, path: Path) -> dict[str, torch.Tensor]:
    """Dig the state dict out of a training checkpoint and drop DataParallel's "module." prefix."""
    while isinstance(obj, Mapping) and not _is_state_dict(obj):
        inner = next((obj[k] for k in _WRAPPER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, Mapping) or not _is_state_dict(obj):
        raise ValueError(f"{path}: holds no state dict (expected name -> tensor, or one under 'model'/'state_dict')")
    state = dict(obj)
    if state and all(k.startswith("module.") for k in state):
        state = {k.removeprefix("module."): v for k, v in state.items()}
    return state


def _is_state_dict(obj: Mapping) -> bool:
    return bool(obj) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


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


def _mismatches(expected: Mapping[str, torch.Tensor], got: Mapping[str, torch.Tensor]) -> list[str]:
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    shapes = [
        f"{k}: checkpoint {tuple(got[k].shape)}, model {tuple(expected[k].shape)}"
        for k in expected
        if k in got and got[k].shape != expected[k].shape
    ]
    return [
        f"  {title} ({len(items)}): " + "; ".join(items[:_MAX_LISTED]) + ("; ..." if len(items) > _MAX_LISTED else "")
        for title, items in (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatch", shapes))
        if items
    ]


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
