"""A training run's checkpoint: saving last.pt/best.pt and resuming from last.pt (read once).

A checkpoint holds the weights, the optimizer, schedule and loss-scaler states, where in the
schedule the run stands (`Progress`) and the RNG state, so a resumed run replays exactly the
batches and augmentations an uninterrupted one would have drawn. The weights of a checkpoint
from elsewhere are read by `vit_impl.checkpoint.load_checkpoint`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from vit_impl.atomic import replacing


@dataclass
class Progress:
    epoch: int = 0  # the epoch under way (or the next one, at an epoch boundary)
    batches_done: int = 0  # of that epoch, non-zero only in a checkpoint saved mid-epoch
    loss_sum: float = 0.0  # of that epoch so far
    seen: int = 0
    seconds: float = 0.0
    best_top1: float = -1.0
    history: list[dict] = field(default_factory=list)
    rng: dict | None = None  # RNG state taken where training stopped mid-epoch, before the evaluation draws from it

    def next_epoch(self) -> None:
        self.epoch, self.batches_done = self.epoch + 1, 0
        self.loss_sum, self.seen, self.seconds = 0.0, 0, 0.0


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, model: nn.Module, optimizer, scheduler, scaler, progress: Progress,
                    config: dict, model_config: dict) -> None:
    state = {
        "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "epoch": progress.epoch, "batches_done": progress.batches_done, "loss_sum": progress.loss_sum,
        "seen": progress.seen, "seconds": progress.seconds, "best_top1": progress.best_top1,
        "rng": progress.rng or rng_state(), "config": config, "model_config": model_config,
    }
    with replacing(path) as tmp:  # a crash mid-save never leaves a half-written last.pt
        torch.save(state, tmp)


def resume_checkpoint(path: Path, model: nn.Module, optimizer, scheduler, scaler) -> Progress:
    """Load everything `save_checkpoint` wrote back into the run and the RNGs; ValueError naming a mismatch."""
    from vit_impl.checkpoint_file import _read, mismatches  # one reading of the file, its errors named as load_checkpoint names them

    state = _read(path)
    problems = mismatches(model.state_dict(), state["model"])
    if problems:
        raise ValueError(f"{path}: checkpoint does not fit {type(model).__name__}:\n" + "\n".join(problems))
    model.load_state_dict(state["model"], strict=True)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and state.get("scaler"):
        scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"])
    return Progress(state["epoch"], state["batches_done"], state["loss_sum"], state["seen"],
                    state["seconds"], state["best_top1"])
