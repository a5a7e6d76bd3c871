"""What a training run reports: metrics.jsonl, curves.png, Weights & Biases, a progress bar and a line per epoch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from vit_impl.atomic import replacing
from vit_impl.train_config import TrainConfig


def write_metrics(path: Path, history: list[dict]) -> None:
    with replacing(path) as tmp:
        tmp.write_text("".join(json.dumps(row) + "\n" for row in history))


def draw_curves(path: Path, history: list[dict], title: str) -> None:
    """Loss (train, val) and validation top-1 against epoch, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.plot(epochs, [row["train_loss"] for row in history], "o-", label="train (label-smoothed, augmented)")
    ax1.plot(epochs, [row["val_loss"] for row in history], "o-", label="validation")
    ax1.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax1.legend()
    ax2.plot(epochs, [100 * row["val_top1"] for row in history], "o-", color="tab:green")
    ax2.set(xlabel="epoch", ylabel="top-1 (%)", title="validation accuracy", ylim=(0, 100))
    best = max(history, key=lambda row: row["val_top1"])
    ax2.annotate(f"{100 * best['val_top1']:.1f}%", (best["epoch"], 100 * best["val_top1"]),
                 textcoords="offset points", xytext=(0, -14), ha="center")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with replacing(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


class WandbLog:
    """Weights & Biases when installed and asked for; otherwise one line saying why not."""

    def __init__(self, mode: str, out: Path, config: TrainConfig, enabled: bool):
        self.run = None
        if mode == "off" or not enabled:
            return
        try:
            import wandb
        except ImportError:
            print(f"wandb is not installed, so --wandb {mode} logs nothing there (pip install wandb); "
                  f"metrics.jsonl and curves.png are written as always", file=sys.stderr)
            return
        self.run = wandb.init(project="studykit-vit", mode=mode, dir=str(out), config=config.plain(),
                              name=out.name, resume="allow", id=f"{out.name}-{config.seed}")

    def log(self, row: dict) -> None:
        if self.run is not None:
            self.run.log(row, step=row["epoch"])

    def finish(self) -> None:
        if self.run is not None:
            self.run.finish()


class EpochBar:
    """A rich progress bar on stderr for one epoch, when stderr is a terminal and we are rank 0."""

    def __init__(self, total: int, done: int, label: str, show: bool):
        self.progress = None
        if show and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[info]}"), TimeRemainingColumn(),
                                     console=Console(stderr=True), transient=True)
            self.task = self.progress.add_task(label, total=total, completed=done, info="")
            self.progress.start()

    def advance(self, info: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=1, info=info)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def epoch_line(row: dict, epochs: int) -> str:
    return (f"epoch {row['epoch']}/{epochs}: train loss {row['train_loss']:.4f}, val loss {row['val_loss']:.4f}, "
            f"val top-1 {100 * row['val_top1']:.2f}%, lr {row['lr']:.2e}, {row['images_per_s']:.0f} img/s, "
            f"{row['epoch_seconds']:.0f} s" + (" (partial)" if row.get("partial") else ""))
