"""`studykit train`: train a paper's model (ViT on CIFAR-10 or the synthetic shapes set) with the paper's own options."""

from __future__ import annotations

import argparse
import os

DESCRIPTION = ("Train a ViT and keep metrics.jsonl, curves.png, last.pt and best.pt in RUN_DIR. "
               "The same command under `torchrun --nproc_per_node N -m studykit train ...` trains with "
               "DistributedDataParallel. Ctrl-C saves last.pt; --resume continues from it.")


def add_parser(subparsers) -> None:
    # The options are the paper's (its registry's `train_arguments`), known only once --model picks
    # the paper; reading the registries here would slow every command, so they are parsed in run().
    p = subparsers.add_parser(
        "train", add_help=False, prefix_chars="\0",  # no option of its own: every word goes to `options`
        help="train a small ViT (CIFAR-10 or synthetic shapes) with curves, checkpoints, resume; DDP under torchrun",
    )
    p.add_argument("options", nargs="*")
    p.set_defaults(func=run)


def run(args) -> int:
    from studykit.errors import UserError
    from studykit.papers import model_paper, resolve

    peek = argparse.ArgumentParser(add_help=False)
    peek.add_argument("--model")
    try:
        paper = model_paper("train", peek.parse_known_args(args.options)[0].model)
    except LookupError as err:
        raise UserError(str(err)) from None
    parser = argparse.ArgumentParser(prog="studykit train", description=DESCRIPTION)
    resolve(paper.train_arguments)(parser)
    args = parser.parse_args(args.options)
    try:
        history = resolve(paper.train)(resolve(paper.train_config)(args))
    except ValueError as err:  # the paper's contract: a problem the user can fix (studykit.papers)
        raise UserError(str(err)) from None
    if history and os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 speaks for all
        best = max(row["val_top1"] for row in history)
        print(f"best validation top-1 {100 * best:.2f}%; run in {args.out}")
    return 0
