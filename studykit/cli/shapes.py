"""`studykit shapes MODEL`: every tensor shape of a model's forward pass, labelled with its paper's equations.

The model comes from the paper registry that names it (ViT's, Swin's...), which also traces and draws it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "shapes",
        help="show how the tensor shapes change through a model, step by step (table, JSON, PNG, Mermaid)",
        description="Trace MODEL on a (B, 3, S, S) input and print each step: module or operation, the paper's "
        "equation, input shape, output shape. Blocks that repeat with the same shapes are shown once with "
        "'xN' (ViT's blocks.0 for all L blocks, a Swin stage's W-MSA/SW-MSA pair for its pairs); --json "
        "lists every step.",
    )
    p.add_argument("model", metavar="MODEL_NAME",
                   help="a model a paper registry knows: vit_base_patch16_224, swin_tiny_patch4_window7_224...")
    p.add_argument("--batch", type=int, default=2, metavar="B", help="batch size of the example input (default 2)")
    p.add_argument("--img-size", type=int, metavar="S", help="image size (default: the model's, 224)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true",
                     help="print a JSON list of {module, eq, input_shape, output_shape}, every block included")
    out.add_argument("--mermaid", action="store_true", help="print a Mermaid flowchart (for an Obsidian note)")
    p.add_argument("--png", type=Path, metavar="FILE", help="also draw the flow as a PNG diagram into FILE")
    p.add_argument("--all-blocks", action="store_true", help="list all L blocks instead of blocks.0 with 'x L'")
    p.set_defaults(func=run)


def run(args) -> int:
    from studykit.errors import UserError

    if args.batch < 1:
        raise UserError(f"--batch {args.batch}: the batch size must be at least 1")
    if args.img_size is not None and args.img_size < 1:
        raise UserError(f"--img-size {args.img_size}: the image size must be a positive number of pixels")
    if args.png is not None:
        if args.png.is_dir():
            raise UserError(f"{args.png}: is a directory; give a file name for the PNG")
        if not args.png.parent.is_dir():
            raise UserError(f"{args.png}: folder {args.png.parent} does not exist")

    from studykit.papers import model_registry, registries

    known = registries()
    registry = model_registry(args.model, known)
    if registry is None:
        names = [name for r in known.values() for name in r.model_names()]
        raise UserError(f"unknown model {args.model!r}; known: {', '.join(names)}")
    try:
        steps = registry.trace_shapes(args.model, batch=args.batch, img_size=args.img_size)
    except ValueError as exc:  # the model's own check: an image size the patch size does not divide
        raise UserError(f"{args.model}: {exc}") from None
    shown = steps if args.all_blocks else registry.collapse_shapes(steps)

    if args.png is not None:
        from vault_export.atomic import write_atomic

        size = steps[0].input_shape[-1]
        write_atomic(args.png, registry.shapes_png(shown, title=f"{args.model}: batch {args.batch}, {size}x{size} images"))
        print(f"wrote {args.png}", file=sys.stderr)
    if args.json:
        # One step a line: a list of 300 steps stays readable and still parses as one JSON list.
        sys.stdout.write("[\n" + ",\n".join(json.dumps(s.to_json()) for s in steps) + "\n]\n")
    elif args.mermaid:
        sys.stdout.write(registry.shapes_mermaid(shown))
    else:
        _print_table(args.model, shown)
    return 0


def _print_table(model: str, steps) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    repeat = max(s.repeat for s in steps)
    table = Table(title=f"{model}: shapes step by step", title_justify="left")
    table.add_column("step (module or operation)", overflow="fold")
    table.add_column("eq")
    table.add_column("input shape", justify="right", no_wrap=True)
    table.add_column("output shape", justify="right", no_wrap=True)
    if repeat > 1:
        table.add_column("runs", justify="right")
    for s in steps:
        shape_out = str(s.output_shape)
        if s.output_shape != s.input_shape:
            shape_out = f"[bold]{shape_out}[/bold]"
        row = [escape(s.module), s.eq, str(s.input_shape), shape_out]
        if repeat > 1:
            row.append(f"x{s.repeat}" if s.repeat > 1 else "")
        table.add_row(*row)
    if repeat > 1:
        table.caption = "a row marked xN stands for N runs of its block with the same shapes (--all-blocks lists them)"
    Console().print(table)
