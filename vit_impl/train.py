"""Train a ViT: `python -m vit_impl.train --dataset shapes` (or `studykit train`), also under torchrun.

One epoch = a DistributedSampler permutation seeded by (seed, epoch), so a run resumed from
last.pt replays the very batches an uninterrupted run would see. Under `torchrun
--nproc_per_node N` each process takes every N-th example of that permutation and
DistributedDataParallel averages the gradients, which is the single-process step on the same
global batch; rank 0 alone writes.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vit_impl.atomic import replacing
from vit_impl.data import DatasetError, ImageSet, cifar10_splits, shapes_splits
from vit_impl.model import num_params
from vit_impl.train_args import build_parser, resolve


class TrainError(ValueError):
    """A problem the user can fix (bad options, an occupied run folder, a batch too large)."""


# --- distributed ---------------------------------------------------------------------------


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str) -> Dist:
    """Join the torchrun group when WORLD_SIZE > 1: gloo on CPU, nccl on GPU."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Dist()
    import torch.distributed as dist

    dist.init_process_group("nccl" if device == "cuda" else "gloo")
    d = Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    if device == "cuda":
        torch.cuda.set_device(d.local_rank)
    return d


def _all_mean(value: float, dist_: Dist, device) -> float:
    if dist_.world == 1:
        return value
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.item() / dist_.world


# --- data ----------------------------------------------------------------------------------


class Images(torch.utils.data.Dataset):
    """An ImageSet as uint8 (3, H, W) images, with torchvision's AutoAugment or RandAugment when asked.

    The policy runs per image, in the loader's workers; crop, flip and normalisation run on whole
    batches on the device (`crop_flip`, `normalise`), which is what makes a CPU epoch fast.
    """

    def __init__(self, data: ImageSet, augment: str = "none"):
        self.data = data
        self.policy = _policy(augment)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i):
        img = self.data.images[i]
        return (self.policy(img) if self.policy else img), self.data.labels[i]


def _policy(augment: str):
    if augment not in ("autoaugment", "randaugment"):
        return None
    try:
        from torchvision.transforms import v2
    except ImportError:
        print(f"torchvision is not installed: --augment {augment} falls back to crop + flip", file=sys.stderr)
        return None
    if augment == "autoaugment":
        return v2.AutoAugment(v2.AutoAugmentPolicy.CIFAR10)
    return v2.RandAugment(num_ops=2, magnitude=9)


def crop_flip(x: torch.Tensor) -> torch.Tensor:
    """Random crop after reflect-padding by H/8, and a random horizontal flip, per image of a (B, C, H, W) batch."""
    B, _, H, W = x.shape
    pad = H // 8
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")  # (B, C, H + 2 pad, W + 2 pad)
    top = torch.randint(0, 2 * pad + 1, (B, 1), device=x.device)
    left = torch.randint(0, 2 * pad + 1, (B, 1), device=x.device)
    rows = (top + torch.arange(H, device=x.device))[:, None, :, None]  # (B, 1, H, 1)
    cols = (left + torch.arange(W, device=x.device))[:, None, None, :]  # (B, 1, 1, W)
    flip = torch.rand(B, device=x.device) < 0.5
    cols = torch.where(flip[:, None, None, None], 2 * left[:, None, None] + W - 1 - cols, cols)
    b = torch.arange(B, device=x.device)[:, None, None, None]
    c = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[b, c, rows, cols]  # (B, C, H, W)


def normalise(x: torch.Tensor, data: ImageSet) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> float, each channel to zero mean and unit variance over the training set."""
    mean = torch.tensor(data.mean, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(data.std, device=x.device).view(1, 3, 1, 1)
    return (x.float() / 255 - mean) / std


def load_data(config: dict) -> tuple[ImageSet, ImageSet]:
    if config["dataset"] == "cifar10":
        if config["img_size"] != 32:
            raise TrainError(f"--img-size {config['img_size']}: CIFAR-10 images are 32x32")
        return cifar10_splits(config["data_dir"])
    return shapes_splits(config["img_size"], config["seed"], config.get("train_size") or 20000,
                         config.get("val_size") or 2000)


# --- model and schedule --------------------------------------------------------------------


def model_kwargs(config: dict, num_classes: int) -> dict:
    """Constructor keywords of the VisionTransformer the configuration asks for."""
    if config.get("model"):
        from vit_impl.configs import model_config

        try:
            kw = model_config(config["model"], img_size=config["img_size"], num_classes=num_classes)
        except ValueError as err:
            raise TrainError(str(err)) from None
        for key in ("patch_size", "embed_dim", "depth", "num_heads", "mlp_ratio"):
            if key in config.get("_given", ()):
                kw[key] = config[key]
    else:
        kw = dict(img_size=config["img_size"], num_classes=num_classes, **{
            k: config[k] for k in ("patch_size", "embed_dim", "depth", "num_heads", "mlp_ratio")})
    kw["drop_path_rate"] = config["drop_path"]
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


def make_optimizer(model: nn.Module, config: dict) -> torch.optim.Optimizer:
    """AdamW; no weight decay on biases, norms, the class token and E_pos (as timm and DeiT do)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or name in ("cls_token", "pos_embed") else decay).append(p)
    groups = [{"params": decay, "weight_decay": config["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config["lr"], betas=(0.9, 0.999))


# --- run state and files -------------------------------------------------------------------


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


def save_checkpoint(path: Path, model, optimizer, scheduler, scaler, progress: Progress, config: dict, kw: dict):
    state = {
        "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "epoch": progress.epoch, "batches_done": progress.batches_done, "loss_sum": progress.loss_sum,
        "seen": progress.seen, "seconds": progress.seconds, "best_top1": progress.best_top1,
        "rng": progress.rng or rng_state(), "config": _plain(config), "model_config": kw,
    }
    with replacing(path) as tmp:  # a crash mid-save never leaves a half-written last.pt
        torch.save(state, tmp)


def _plain(config: dict) -> dict:
    return {k: v for k, v in config.items() if isinstance(v, (str, int, float, bool, type(None)))}


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

    def __init__(self, mode: str, out: Path, config: dict, enabled: bool):
        self.run = None
        if mode == "off" or not enabled:
            return
        try:
            import wandb
        except ImportError:
            print(f"wandb is not installed, so --wandb {mode} logs nothing there (pip install wandb); "
                  f"metrics.jsonl and curves.png are written as always", file=sys.stderr)
            return
        self.run = wandb.init(project="studykit-vit", mode=mode, dir=str(out), config=_plain(config),
                              name=out.name, resume="allow", id=f"{out.name}-{config['seed']}")

    def log(self, row: dict) -> None:
        if self.run is not None:
            self.run.log(row, step=row["epoch"])

    def finish(self) -> None:
        if self.run is not None:
            self.run.finish()


# --- the loop ------------------------------------------------------------------------------


def evaluate(model, loader, data: ImageSet, device, autocast) -> tuple[float, float]:
    """Validation loss (no label smoothing) and top-1."""
    model.eval()
    loss_sum, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = normalise(x.to(device, non_blocking=True), data), y.to(device, non_blocking=True)
            with autocast():
                logits = model(x)
            loss_sum += F.cross_entropy(logits.float(), y, reduction="sum").item()
            correct += (logits.argmax(-1) == y).sum().item()
            n += len(y)
    model.train()
    return loss_sum / n, correct / n


class _Bar:
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


def train(config: dict) -> list[dict]:
    """Run the training the configuration describes; returns the metrics history."""
    device = config.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise TrainError("--device cuda: no CUDA device is available here; use --device cpu")
    if config["batch_size"] < 1 or config["epochs"] < 1:
        raise TrainError("--batch-size and --epochs must be at least 1")
    for key in ("train_size", "val_size"):
        if config.get(key) is not None and config[key] < 1:  # 0 would otherwise fall back to the default size
            raise TrainError(f"--{key.replace('_', '-')} {config[key]}: must be at least 1")
    if config.get("threads"):
        torch.set_num_threads(config["threads"])
    dist_ = init_distributed(device)
    try:
        return _train(config, device, dist_)
    finally:
        if dist_.world > 1:
            import torch.distributed as dist

            dist.destroy_process_group()


def _train(config: dict, device: str, dist_: Dist) -> list[dict]:
    out = Path(config["out"])
    last, best = out / "last.pt", out / "best.pt"
    if out.exists() and not out.is_dir():
        raise TrainError(f"{out}: not a folder; --out takes the run's folder")
    if config["resume"] and not last.is_file():
        raise TrainError(f"{out}: --resume, but there is no last.pt to resume from")
    if not config["resume"] and last.is_file():
        raise TrainError(f"{out}: already holds a run (last.pt); pass --resume to continue it, or another --out")
    if config["batch_size"] % dist_.world:
        raise TrainError(f"--batch-size {config['batch_size']} does not split over {dist_.world} processes")
    if dist_.main:
        out.mkdir(parents=True, exist_ok=True)
    session_start = time.monotonic()

    torch.manual_seed(config["seed"])
    random.seed(config["seed"])
    train_set, val_set = load_data(config)
    kw = model_kwargs(config, len(train_set.classes))
    model = build_model(kw).to(device)

    per_rank = config["batch_size"] // dist_.world
    train_ds = Images(train_set, config["augment"])
    sampler = torch.utils.data.DistributedSampler(
        train_ds, num_replicas=dist_.world, rank=dist_.rank, shuffle=True, seed=config["seed"], drop_last=True)
    steps_per_epoch = len(sampler) // per_rank
    if steps_per_epoch == 0:
        raise TrainError(f"--batch-size {config['batch_size']} is larger than the {len(train_ds)} training images")
    val_loader = torch.utils.data.DataLoader(Images(val_set), batch_size=256, num_workers=config["workers"],
                                             pin_memory=device == "cuda", generator=torch.Generator())

    optimizer = make_optimizer(model, config)
    total = steps_per_epoch * config["epochs"]
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(round(config["warmup_epochs"] * steps_per_epoch), total))
    amp_dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda") if device == "cuda" and amp_dtype == torch.float16 else None

    def autocast():  # mixed precision on GPU only; CPU runs stay float32 and bit-reproducible
        return torch.autocast("cuda", dtype=amp_dtype) if device == "cuda" else nullcontext()

    progress = Progress()
    if config["resume"]:
        from vit_impl.checkpoint import load_checkpoint

        try:
            load_checkpoint(model, last)  # names any mismatch: a checkpoint of another model
        except ValueError as err:
            raise TrainError(f"{err}\n(--resume needs the same model options as the run that wrote it)") from None
        state = torch.load(last, map_location="cpu", weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        progress = Progress(state["epoch"], state["batches_done"], state["loss_sum"], state["seen"],
                            state["seconds"], state["best_top1"])
        set_rng_state(state["rng"])
        history_path = out / "metrics.jsonl"
        if history_path.is_file():  # drop rows past the checkpoint (a crash after writing them)
            rows = [json.loads(line) for line in history_path.read_text().splitlines() if line.strip()]
            progress.history = [row for row in rows if row["epoch"] <= progress.epoch]

    ddp = model
    if dist_.world > 1:
        ddp = nn.parallel.DistributedDataParallel(model, device_ids=[dist_.local_rank] if device == "cuda" else None)
    criterion = nn.CrossEntropyLoss(label_smoothing=config["label_smoothing"])
    wandb = WandbLog(config["wandb"], out, config, dist_.main)
    params = num_params(model)
    title = f"{config['dataset']}: ViT {kw['embed_dim']}d x {kw['depth']}, patch {kw['patch_size']}, {params / 1e6:.2f}M params"
    if dist_.main:
        print(f"{title}; {len(train_set)} train / {len(val_set)} val images, {steps_per_epoch} steps an epoch, "
              f"{device} x {dist_.world} -> {out}", file=sys.stderr)

    def save(path: Path) -> None:
        if dist_.main:
            save_checkpoint(path, model, optimizer, scheduler, scaler, progress, config, kw)

    deadline = time.monotonic() + 60 * config["max_minutes"] if config.get("max_minutes") else None
    model.train()
    session_epochs = 0
    try:
        while progress.epoch < config["epochs"]:
            sampler.set_epoch(progress.epoch)
            order = list(sampler)[progress.batches_done * per_rank : steps_per_epoch * per_rank]
            # Its own generator: a loader draws a seed when it starts, which must not move the global RNG
            # (a resumed epoch starts a second loader mid-way).
            loader = torch.utils.data.DataLoader(
                train_ds, batch_size=per_rank, sampler=order, num_workers=config["workers"],
                pin_memory=device == "cuda", generator=torch.Generator().manual_seed(config["seed"] + progress.epoch))
            bar = _Bar(steps_per_epoch, progress.batches_done, f"epoch {progress.epoch + 1}/{config['epochs']}",
                       dist_.main)
            start = time.monotonic()
            stopped = False
            try:
                for x, y in loader:
                    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                    if config["augment"] != "none":
                        x = crop_flip(x)
                    with autocast():
                        loss = criterion(ddp(normalise(x, train_set)), y)
                    optimizer.zero_grad(set_to_none=True)
                    if scaler is not None:
                        scaler.scale(loss).backward()
                        scaler.unscale_(optimizer)
                    else:
                        loss.backward()
                    if config["clip_grad"]:
                        nn.utils.clip_grad_norm_(model.parameters(), config["clip_grad"])
                    if scaler is not None:
                        scaler.step(optimizer)
                        scaler.update()
                    else:
                        optimizer.step()
                    scheduler.step()
                    progress.batches_done += 1
                    progress.loss_sum += loss.item() * len(y)
                    progress.seen += len(y)
                    bar.advance(f"loss {progress.loss_sum / progress.seen:.3f}")
                    if deadline is not None and time.monotonic() > deadline:
                        stopped = True
                        progress.rng = rng_state()
                        break
            finally:
                bar.close()
                progress.seconds += time.monotonic() - start
            row = _end_of_epoch(model, val_loader, val_set, device, autocast, optimizer, progress, dist_)
            row["session_s"] = round(time.monotonic() - session_start, 2)  # wall time, data and evaluations included
            progress.history.append(row)
            finished = progress.batches_done == steps_per_epoch
            if finished:
                progress.epoch, progress.batches_done = progress.epoch + 1, 0
                progress.loss_sum, progress.seen, progress.seconds = 0.0, 0, 0.0
            else:
                row["partial"] = True
            if dist_.main:
                improved = row["val_top1"] > progress.best_top1
                progress.best_top1 = max(progress.best_top1, row["val_top1"])
                save(last)
                if improved:
                    save(best)
                write_metrics(out / "metrics.jsonl", progress.history)
                draw_curves(out / "curves.png", progress.history, title)
                wandb.log(row)
                print(_line(row, config["epochs"]), file=sys.stderr)
            session_epochs += finished
            if config.get("stop_after") and session_epochs >= config["stop_after"] and not stopped:
                break
            progress.rng = None
            if stopped:
                if dist_.main:
                    print(f"stopped after --max-minutes {config['max_minutes']:g}; --resume continues from "
                          f"{last}", file=sys.stderr)
                break
    except KeyboardInterrupt:
        save(last)
        if dist_.main:
            print(f"interrupted: saved {last} at epoch {progress.epoch + 1}, batch {progress.batches_done}; "
                  f"--resume continues from there", file=sys.stderr)
        raise
    except torch.cuda.OutOfMemoryError:
        raise TrainError(f"--batch-size {config['batch_size']} does not fit in GPU memory; lower --batch-size") from None
    finally:
        wandb.finish()
    return progress.history


def _end_of_epoch(model, val_loader, val_set, device, autocast, optimizer, progress: Progress, dist_) -> dict:
    val_loss, val_top1 = evaluate(model, val_loader, val_set, device, autocast)
    train_loss = _all_mean(progress.loss_sum / max(progress.seen, 1), dist_, device)
    return {
        "epoch": progress.epoch + 1,
        "train_loss": round(train_loss, 6),
        "val_loss": round(val_loss, 6),
        "val_top1": round(val_top1, 6),
        "lr": optimizer.param_groups[0]["lr"],
        "images_per_s": round(progress.seen * dist_.world / max(progress.seconds, 1e-9), 1),
        "epoch_seconds": round(progress.seconds, 2),
    }


def _line(row: dict, epochs: int) -> str:
    return (f"epoch {row['epoch']}/{epochs}: train loss {row['train_loss']:.4f}, val loss {row['val_loss']:.4f}, "
            f"val top-1 {100 * row['val_top1']:.2f}%, lr {row['lr']:.2e}, {row['images_per_s']:.0f} img/s, "
            f"{row['epoch_seconds']:.0f} s" + (" (partial)" if row.get("partial") else ""))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        train(resolve(args))
    except (TrainError, DatasetError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
