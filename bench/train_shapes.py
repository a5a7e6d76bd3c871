"""Time for a small ViT to reach 90% validation top-1 on `shapes`, on CPU, against a 5-minute budget.

    python bench/train_shapes.py                  # the `shapes` recipe, 1 torch thread, into bench/out/train_shapes
    python bench/train_shapes.py --threads 2

The clock starts before the data is generated and stops at the end of the first epoch whose
validation top-1 is >= 90%; the run goes on to its last epoch (best.pt feeds
bench/attention_localisation.py). It prints the load average, because on a shared machine
the number says as much about the neighbours as about the model.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import torch

from vit_impl.train import train
from vit_impl.train_args import build_parser, resolve

BUDGET_S = 300.0
TARGET = 0.90


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: fastest on a busy machine)")
    p.add_argument("--out", type=Path, default=Path("bench/out/train_shapes"))
    p.add_argument("--epochs", type=int, help="default: the recipe's")
    args = p.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    argv = ["--dataset", "shapes", "--device", "cpu", "--threads", str(args.threads), "--out", str(args.out),
            "--max-minutes", str(BUDGET_S / 60)]
    if args.epochs:
        argv += ["--epochs", str(args.epochs)]
    config = resolve(build_parser().parse_args(argv))

    load_before = os.getloadavg()
    start = time.monotonic()
    history = train(config)
    total = time.monotonic() - start
    load_after = os.getloadavg()

    reached = next((r for r in history if r["val_top1"] >= TARGET), None)
    print(f"\nmachine: {os.cpu_count()} cores, torch {torch.__version__}, {args.threads} thread(s); "
          f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    print(f"model: {config.embed_dim}d x {config.depth} blocks, patch {config.patch_size}, "
          f"{config.img_size} px; batch {config.batch_size}, {len(history)} epochs")
    print(f"{'epoch':>5} {'val top-1':>9} {'img/s':>7} {'s/epoch':>8} {'wall s':>7}")
    for r in history:
        print(f"{r['epoch']:>5} {100 * r['val_top1']:>8.2f}% {r['images_per_s']:>7.0f} {r['epoch_seconds']:>8.1f} "
              f"{r['session_s']:>7.0f}")
    best = max(r["val_top1"] for r in history)
    if reached is None:
        print(f"did NOT reach {100 * TARGET:.0f}% (best {100 * best:.2f}%) in {total:.0f} s")
        return
    to_target = reached["session_s"]  # wall time from the start: data generation and evaluations included
    print(f"reached {100 * reached['val_top1']:.2f}% at epoch {reached['epoch']}, {to_target:.0f} s from the start "
          f"({to_target / BUDGET_S:.2f} of the {BUDGET_S:.0f} s budget); best {100 * best:.2f}%, "
          f"whole run {total:.0f} s")


if __name__ == "__main__":
    main()
