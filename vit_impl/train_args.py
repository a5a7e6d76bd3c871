"""The options of `studykit train` and `python -m vit_impl.train`, and the recipes; no torch here.

`studykit --help` builds this parser, so it must import nothing heavy.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vit_impl.train_config import TrainConfig

# A recipe is a complete set of defaults; options given on the command line win over it.
RECIPES: dict[str, dict] = {
    # Small data wants small patches, strong augmentation, label smoothing and a warmup
    # (omihub777/ViT-CIFAR: this 6.3M-parameter model reaches 90.9% in 200 epochs).
    "cifar10-vit": dict(
        dataset="cifar10", img_size=32, patch_size=4, embed_dim=384, depth=7, num_heads=12, mlp_ratio=1.0,
        epochs=200, batch_size=128, lr=1e-3, weight_decay=5e-5, warmup_epochs=5, label_smoothing=0.1,
        augment="autoaugment", clip_grad=1.0, drop_path=0.0,
    ),
    # Sized to learn `shapes` in a few CPU minutes: 64 tokens of 64 dimensions, 2 blocks. Two blocks,
    # not four, because attention rollout blurs with every block it multiplies through: with 4 the
    # rollout put 0.34-0.37 of its mass on the object, with 2 about 0.5 (bench/attention_localisation.py).
    "shapes": dict(
        dataset="shapes", img_size=32, patch_size=4, embed_dim=64, depth=2, num_heads=4, mlp_ratio=2.0,
        epochs=10, batch_size=128, lr=2e-3, weight_decay=0.05, warmup_epochs=1, label_smoothing=0.1,
        augment="flip", clip_grad=1.0, drop_path=0.0,
    ),
}
DEFAULT_RECIPE = {"cifar10": "cifar10-vit", "shapes": "shapes"}
AUGMENTS = ("none", "flip", "autoaugment", "randaugment")


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """Every option defaults to None so that `resolve` can tell given from recipe."""
    p.add_argument("--dataset", choices=("cifar10", "shapes"), help="what to train on (default: the recipe's)")
    p.add_argument("--data-dir", default="data", metavar="DIR",
                   help="where CIFAR-10 is (cifar-10-python.tar.gz or cifar-10-batches-py/); default ./data")
    p.add_argument("--recipe", choices=sorted(RECIPES),
                   help="a preset of model and hyper-parameters (default: cifar10-vit for cifar10, shapes for shapes)")
    g = p.add_argument_group("model (default: the recipe's)")
    g.add_argument("--model", metavar="NAME", help="a vit_impl model name, built for --img-size and 10 classes")
    g.add_argument("--img-size", type=int, metavar="S")
    g.add_argument("--patch-size", type=int, metavar="P")
    g.add_argument("--embed-dim", type=int, metavar="D")
    g.add_argument("--depth", type=int, metavar="L")
    g.add_argument("--num-heads", type=int, metavar="H")
    g.add_argument("--mlp-ratio", type=float, metavar="R")
    g.add_argument("--drop-path", type=float, metavar="P", help="stochastic depth rate of the last block")
    o = p.add_argument_group("optimisation (default: the recipe's)")
    o.add_argument("--epochs", type=int, metavar="N")
    o.add_argument("--batch-size", type=int, metavar="B", help="global batch size, split over torchrun processes")
    o.add_argument("--lr", type=float, metavar="LR", help="peak learning rate of AdamW")
    o.add_argument("--weight-decay", type=float, metavar="WD")
    o.add_argument("--warmup-epochs", type=float, metavar="E", help="linear warmup, then cosine decay to zero")
    o.add_argument("--label-smoothing", type=float, metavar="EPS")
    o.add_argument("--augment", choices=AUGMENTS,
                   help="none; flip = random crop + flip; autoaugment/randaugment add torchvision's policy")
    o.add_argument("--clip-grad", type=float, metavar="NORM", help="clip the gradient norm (0: off)")
    r = p.add_argument_group("run")
    r.add_argument("--out", default="runs/vit", metavar="RUN_DIR",
                   help="metrics.jsonl, curves.png, last.pt and best.pt go here (default runs/vit)")
    r.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    r.add_argument("--max-minutes", type=float, metavar="M", help="stop (and save last.pt) after M minutes")
    r.add_argument("--stop-after", type=int, metavar="E",
                   help="stop after E epochs in this session; the schedule still spans --epochs, --resume goes on")
    r.add_argument("--wandb", choices=("off", "offline", "online"), default="off",
                   help="also log to Weights & Biases (offline: into RUN_DIR/wandb, sync later)")
    r.add_argument("--threads", type=int, metavar="T",
                   help="CPU threads of torch (default: one a core); on a shared, busy machine 1 is often fastest")
    r.add_argument("--workers", type=int, default=0, metavar="W", help="data-loader worker processes (default 0)")
    r.add_argument("--train-size", type=int, metavar="N", help="shapes: training images (default 20000)")
    r.add_argument("--val-size", type=int, metavar="N", help="shapes: validation images (default 2000)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m vit_impl.train",
        description="Train a ViT on CIFAR-10 or the synthetic shapes set; runs under torchrun as DDP.",
    )
    add_train_arguments(p)
    return p


def resolve(args: argparse.Namespace) -> TrainConfig:
    """The recipe's defaults overlaid with the options given: the run's full configuration."""
    from dataclasses import fields

    from vit_impl.train_config import SIZE_OPTIONS, TrainConfig

    recipe = args.recipe or DEFAULT_RECIPE[args.dataset or "shapes"]
    known = {f.name for f in fields(TrainConfig)}
    given = {k: v for k, v in vars(args).items() if v is not None and k in known}
    return TrainConfig(**{**RECIPES[recipe], **given, "recipe": recipe},
                       size_overrides=frozenset(given) & frozenset(SIZE_OPTIONS))
