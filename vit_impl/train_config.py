"""A training run's configuration as one frozen value, and the error for options that cannot run; no torch here.

Kept out of train_args so that building the CLI's parser (every `studykit` command) does not pay
for creating this class.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


class TrainError(ValueError):
    """A problem the user can fix (bad options, an occupied run folder, a batch too large)."""


SIZE_OPTIONS = ("patch_size", "embed_dim", "depth", "num_heads", "mlp_ratio")


@dataclass(frozen=True)
class TrainConfig:
    """A run's full configuration: the recipe's values overlaid with the options given."""

    recipe: str
    dataset: str
    img_size: int
    patch_size: int
    embed_dim: int
    depth: int
    num_heads: int
    mlp_ratio: float
    drop_path: float
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    warmup_epochs: float
    label_smoothing: float
    augment: str
    clip_grad: float
    data_dir: str = "data"
    model: str | None = None
    out: str = "runs/vit"
    resume: bool = False
    seed: int = 0
    device: str | None = None
    max_minutes: float | None = None
    stop_after: int | None = None
    wandb: str = "off"
    threads: int | None = None
    workers: int = 0
    train_size: int | None = None
    val_size: int | None = None
    # With --model, the size options given here override the named model's (the others are the recipe's).
    size_overrides: frozenset[str] = field(default_factory=frozenset)

    def plain(self) -> dict:
        """The options set, as plain values, as a checkpoint and W&B keep them."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name != "size_overrides" and getattr(self, f.name) is not None}
