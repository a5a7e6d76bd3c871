"""Read a checkpoint file (.pth, .pt or .safetensors) into a plain state dict, and say how one fails to fit a model.

Shared by every model package's `load_checkpoint` (vit_impl, swin_impl): the file handling
and the error messages are the same whatever the model.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path

import torch

# Training scripts save {"model": state_dict, "optimizer": ..., "epoch": ...} or {"state_dict": ...}.
_WRAPPER_KEYS = ("state_dict", "model")
# Keys listed per kind in a mismatch error; a wrong depth would otherwise list hundreds.
_MAX_LISTED = 12


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The state dict in the file at `path`, training wrappers and DataParallel's "module." removed.

    Raises ValueError naming the file when it is missing, unreadable or holds no state dict.
    """
    return _unwrap(_read(path), path)


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


def mismatches(expected: Mapping[str, torch.Tensor], got: Mapping[str, torch.Tensor]) -> list[str]:
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
