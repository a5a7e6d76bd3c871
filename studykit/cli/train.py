"""`studykit train`: train a ViT on CIFAR-10 or the synthetic shapes set (the options of `python -m vit_impl.train`)."""

from __future__ import annotations

import os


def add_parser(subparsers) -> None:
    from vit_impl.train_args import add_train_arguments  # torch-free, so --help stays fast

    p = subparsers.add_parser(
        "train",
        help="train a small ViT (CIFAR-10 or synthetic shapes) with curves, checkpoints, resume; DDP under torchrun",
        description="Train a ViT and keep metrics.jsonl, curves.png, last.pt and best.pt in RUN_DIR. "
        "The same command under `torchrun --nproc_per_node N -m studykit train ...` trains with "
        "DistributedDataParallel. Ctrl-C saves last.pt; --resume continues from it.",
    )
    add_train_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from studykit.errors import UserError
    from vit_impl.data import DatasetError
    from vit_impl.train import TrainError, train
    from vit_impl.train_args import resolve

    try:
        history = train(resolve(args))
    except (TrainError, DatasetError) as err:
        raise UserError(str(err)) from None
    if history and os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 speaks for all
        best = max(row["val_top1"] for row in history)
        print(f"best validation top-1 {100 * best:.2f}%; run in {args.out}")
    return 0
