"""Train a ViT: `python -m vit_impl.train --dataset shapes` (or `studykit train`), also under torchrun.

One epoch = a DistributedSampler permutation seeded by (seed, epoch), so a run resumed from
last.pt replays the very batches an uninterrupted run would see. Under `torchrun
--nproc_per_node N` each process takes every N-th example of that permutation and
DistributedDataParallel averages the gradients, which is the single-process step on the same
global batch; rank 0 alone writes.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vit_impl.data import DatasetError, ImageSet
from vit_impl.model import num_params
from vit_impl.train_args import build_parser, resolve
from vit_impl.train_config import TrainConfig, TrainError
from vit_impl.train_data import Images, crop_flip, load_data, normalise
from vit_impl.train_log import EpochBar, WandbLog, draw_curves, epoch_line, write_metrics
from vit_impl.train_model import build_model, make_optimizer, model_kwargs, warmup_cosine
from vit_impl.train_state import Progress, resume_checkpoint, rng_state, save_checkpoint


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


def train(config: TrainConfig) -> list[dict]:
    """Run the training the configuration describes; returns the metrics history."""
    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise TrainError("--device cuda: no CUDA device is available here; use --device cpu")
    if config.batch_size < 1 or config.epochs < 1:
        raise TrainError("--batch-size and --epochs must be at least 1")
    for key in ("train_size", "val_size"):
        if getattr(config, key) is not None and getattr(config, key) < 1:  # 0 would otherwise fall back to the default size
            raise TrainError(f"--{key.replace('_', '-')} {getattr(config, key)}: must be at least 1")
    if config.threads:
        torch.set_num_threads(config.threads)
    dist_ = init_distributed(device)
    try:
        return _train(config, device, dist_)
    finally:
        if dist_.world > 1:
            import torch.distributed as dist

            dist.destroy_process_group()


@dataclass
class Run:
    """What one training session holds: the model, its data, optimizer and schedule, and where it stands."""

    config: TrainConfig
    device: str
    dist: Dist
    out: Path
    train_set: ImageSet
    val_set: ImageSet
    model_config: dict
    model: nn.Module
    ddp: nn.Module  # the model, or its DistributedDataParallel wrapper under torchrun
    train_ds: Images
    sampler: torch.utils.data.DistributedSampler
    per_rank: int  # batch size of each process
    steps_per_epoch: int
    val_loader: torch.utils.data.DataLoader
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler | None
    amp_dtype: torch.dtype
    criterion: nn.Module
    progress: Progress

    @property
    def last(self) -> Path:
        return self.out / "last.pt"

    def autocast(self):  # mixed precision on GPU only; CPU runs stay float32 and bit-reproducible
        return torch.autocast("cuda", dtype=self.amp_dtype) if self.device == "cuda" else nullcontext()

    def save(self, path: Path) -> None:
        if self.dist.main:
            save_checkpoint(path, self.model, self.optimizer, self.scheduler, self.scaler, self.progress,
                            self.config.plain(), self.model_config)


def _check_out(config: TrainConfig, dist_: Dist) -> Path:
    out = Path(config.out)
    last = out / "last.pt"
    if out.exists() and not out.is_dir():
        raise TrainError(f"{out}: not a folder; --out takes the run's folder")
    if config.resume and not last.is_file():
        raise TrainError(f"{out}: --resume, but there is no last.pt to resume from")
    if not config.resume and last.is_file():
        raise TrainError(f"{out}: already holds a run (last.pt); pass --resume to continue it, or another --out")
    if config.batch_size % dist_.world:
        raise TrainError(f"--batch-size {config.batch_size} does not split over {dist_.world} processes")
    if dist_.main:
        out.mkdir(parents=True, exist_ok=True)
    return out


def start_run(config: TrainConfig, device: str, dist_: Dist) -> Run:
    """Build the model, data, optimizer and schedule from the seed, then resume from last.pt when asked."""
    out = _check_out(config, dist_)
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    train_set, val_set = load_data(config)
    kw = model_kwargs(config, len(train_set.classes))
    model = build_model(kw).to(device)

    per_rank = config.batch_size // dist_.world
    train_ds = Images(train_set, config.augment)
    sampler = torch.utils.data.DistributedSampler(
        train_ds, num_replicas=dist_.world, rank=dist_.rank, shuffle=True, seed=config.seed, drop_last=True)
    steps_per_epoch = len(sampler) // per_rank
    if steps_per_epoch == 0:
        raise TrainError(f"--batch-size {config.batch_size} is larger than the {len(train_ds)} training images")
    val_loader = torch.utils.data.DataLoader(Images(val_set), batch_size=256, num_workers=config.workers,
                                             pin_memory=device == "cuda", generator=torch.Generator())

    optimizer = make_optimizer(model, config)
    total = steps_per_epoch * config.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(round(config.warmup_epochs * steps_per_epoch), total))
    amp_dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda") if device == "cuda" and amp_dtype == torch.float16 else None
    progress = _resume(out, model, optimizer, scheduler, scaler) if config.resume else Progress()

    ddp = model
    if dist_.world > 1:
        ddp = nn.parallel.DistributedDataParallel(model, device_ids=[dist_.local_rank] if device == "cuda" else None)
    criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    return Run(config, device, dist_, out, train_set, val_set, kw, model, ddp, train_ds, sampler, per_rank,
               steps_per_epoch, val_loader, optimizer, scheduler, scaler, amp_dtype, criterion, progress)


def _resume(out: Path, model, optimizer, scheduler, scaler) -> Progress:
    try:
        progress = resume_checkpoint(out / "last.pt", model, optimizer, scheduler, scaler)
    except ValueError as err:  # names any mismatch: a checkpoint of another model
        raise TrainError(f"{err}\n(--resume needs the same model options as the run that wrote it)") from None
    history_path = out / "metrics.jsonl"
    if history_path.is_file():  # drop rows past the checkpoint (a crash after writing them)
        rows = [json.loads(line) for line in history_path.read_text().splitlines() if line.strip()]
        progress.history = [row for row in rows if row["epoch"] <= progress.epoch]
    return progress


def train_one_epoch(run: Run, deadline: float | None) -> bool:
    """Train the rest of the epoch under way (from `batches_done`); True when --max-minutes stopped it."""
    config, progress = run.config, run.progress
    run.sampler.set_epoch(progress.epoch)
    order = list(run.sampler)[progress.batches_done * run.per_rank : run.steps_per_epoch * run.per_rank]
    # Its own generator: a loader draws a seed when it starts, which must not move the global RNG
    # (a resumed epoch starts a second loader mid-way).
    loader = torch.utils.data.DataLoader(
        run.train_ds, batch_size=run.per_rank, sampler=order, num_workers=config.workers,
        pin_memory=run.device == "cuda", generator=torch.Generator().manual_seed(config.seed + progress.epoch))
    bar = EpochBar(run.steps_per_epoch, progress.batches_done, f"epoch {progress.epoch + 1}/{config.epochs}",
               run.dist.main)
    start = time.monotonic()
    try:
        for x, y in loader:
            x, y = x.to(run.device, non_blocking=True), y.to(run.device, non_blocking=True)
            if config.augment != "none":
                x = crop_flip(x)
            with run.autocast():
                loss = run.criterion(run.ddp(normalise(x, run.train_set)), y)
            _step(run, loss)
            progress.batches_done += 1
            progress.loss_sum += loss.item() * len(y)
            progress.seen += len(y)
            bar.advance(f"loss {progress.loss_sum / progress.seen:.3f}")
            if deadline is not None and time.monotonic() > deadline:
                progress.rng = rng_state()
                return True
        return False
    finally:
        bar.close()
        progress.seconds += time.monotonic() - start


def _step(run: Run, loss: torch.Tensor) -> None:
    """One optimizer step on `loss`: backward (scaled under float16), clip, step, schedule."""
    run.optimizer.zero_grad(set_to_none=True)
    if run.scaler is not None:
        run.scaler.scale(loss).backward()
        run.scaler.unscale_(run.optimizer)
    else:
        loss.backward()
    if run.config.clip_grad:
        nn.utils.clip_grad_norm_(run.model.parameters(), run.config.clip_grad)
    if run.scaler is not None:
        run.scaler.step(run.optimizer)
        run.scaler.update()
    else:
        run.optimizer.step()
    run.scheduler.step()


def _train(config: TrainConfig, device: str, dist_: Dist) -> list[dict]:
    session_start = time.monotonic()
    run = start_run(config, device, dist_)
    progress = run.progress
    wandb = WandbLog(config.wandb, run.out, config, dist_.main)
    kw = run.model_config
    title = (f"{config.dataset}: ViT {kw['embed_dim']}d x {kw['depth']}, patch {kw['patch_size']}, "
             f"{num_params(run.model) / 1e6:.2f}M params")
    if dist_.main:
        print(f"{title}; {len(run.train_set)} train / {len(run.val_set)} val images, {run.steps_per_epoch} steps "
              f"an epoch, {device} x {dist_.world} -> {run.out}", file=sys.stderr)

    deadline = time.monotonic() + 60 * config.max_minutes if config.max_minutes else None
    run.model.train()
    session_epochs = 0
    try:
        while progress.epoch < config.epochs:
            stopped = train_one_epoch(run, deadline)
            row = _end_of_epoch(run)
            row["session_s"] = round(time.monotonic() - session_start, 2)  # wall time, data and evaluations included
            progress.history.append(row)
            finished = progress.batches_done == run.steps_per_epoch
            if finished:
                progress.next_epoch()
            else:
                row["partial"] = True
            if dist_.main:
                _record(run, row, title, wandb)
            session_epochs += finished
            if config.stop_after and session_epochs >= config.stop_after and not stopped:
                break
            progress.rng = None
            if stopped:
                if dist_.main:
                    print(f"stopped after --max-minutes {config.max_minutes:g}; --resume continues from "
                          f"{run.last}", file=sys.stderr)
                break
    except KeyboardInterrupt:
        run.save(run.last)
        if dist_.main:
            print(f"interrupted: saved {run.last} at epoch {progress.epoch + 1}, batch {progress.batches_done}; "
                  f"--resume continues from there", file=sys.stderr)
        raise
    except torch.cuda.OutOfMemoryError:
        raise TrainError(f"--batch-size {config.batch_size} does not fit in GPU memory; lower --batch-size") from None
    finally:
        wandb.finish()
    return progress.history


def _record(run: Run, row: dict, title: str, wandb: WandbLog) -> None:
    """Rank 0 at the end of an epoch: last.pt (and best.pt when better), metrics, curves, W&B, a line."""
    progress = run.progress
    improved = row["val_top1"] > progress.best_top1
    progress.best_top1 = max(progress.best_top1, row["val_top1"])
    run.save(run.last)
    if improved:
        run.save(run.out / "best.pt")
    write_metrics(run.out / "metrics.jsonl", progress.history)
    draw_curves(run.out / "curves.png", progress.history, title)
    wandb.log(row)
    print(epoch_line(row, run.config.epochs), file=sys.stderr)


def _end_of_epoch(run: Run) -> dict:
    progress = run.progress
    val_loss, val_top1 = evaluate(run.model, run.val_loader, run.val_set, run.device, run.autocast)
    train_loss = _all_mean(progress.loss_sum / max(progress.seen, 1), run.dist, run.device)
    return {
        "epoch": progress.epoch + 1,
        "train_loss": round(train_loss, 6),
        "val_loss": round(val_loss, 6),
        "val_top1": round(val_top1, 6),
        "lr": run.optimizer.param_groups[0]["lr"],
        "images_per_s": round(progress.seen * run.dist.world / max(progress.seconds, 1e-9), 1),
        "epoch_seconds": round(progress.seconds, 2),
    }


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
