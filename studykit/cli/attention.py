"""`studykit attention IMAGE`: where a ViT looks, as one PNG (image, rollout mask, the heads of one block)."""

from __future__ import annotations

import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "attention",
        help="draw a ViT's attention on an image: attention rollout and the class token's attention per head",
        description="Run IMAGE (any size, resized; RGB, RGBA or grayscale) through a ViT on the explicit attention "
        "path and draw the image, the attention-rollout mask over it (Abnar & Zuidema 2020) and the class "
        "token's attention in every head of one block, into one PNG to put in a note.",
    )
    p.add_argument("image", type=Path, metavar="IMAGE", help="a PNG, JPEG or other image file")
    p.add_argument("--checkpoint", type=Path, metavar="FILE",
                   help="a last.pt/best.pt from `studykit train` (or a timm file, with --model)")
    p.add_argument("--model", metavar="NAME",
                   help="a reference model name (vit_tiny_patch16_224...); without --checkpoint its weights are random "
                   "(the chance picture)")
    p.add_argument("--out", type=Path, metavar="FILE.png", help="default: IMAGE's name + .attention.png")
    p.add_argument("--layer", type=int, metavar="L", help="roll out up to block L and show its heads (default: last)")
    p.add_argument("--discard-ratio", type=float, default=0.0, metavar="R",
                   help="first drop the fraction R of weakest attention weights per block (vit-explain's variant; "
                   "default 0: the rollout of Abnar & Zuidema)")
    p.set_defaults(func=run)


def run(args) -> int:
    from studykit.errors import UserError

    if args.checkpoint is None and args.model is None:
        raise UserError("give --checkpoint FILE (a trained model) or --model NAME (random weights)")
    out = args.out or args.image.with_name(args.image.stem + ".attention.png")
    if out.is_dir():
        raise UserError(f"{out}: is a directory; give a file name for the PNG")
    if not out.parent.is_dir():
        raise UserError(f"{out}: folder {out.parent} does not exist")
    image = _read_image(args.image)  # before torch: a bad file fails fast

    import numpy as np

    from studykit.papers import model_paper, resolve

    try:
        paper = model_paper("explain_attention", args.model)
    except LookupError as err:
        raise UserError(str(err)) from None
    explain, draw_attention = resolve(paper.explain_attention), resolve(paper.draw_attention)
    model, mean, std, what = _load_model(args, resolve(paper.load_model))
    depth = len(model.blocks)
    if args.layer is not None and not 0 <= args.layer < depth:
        raise UserError(f"--layer {args.layer}: this model has blocks 0..{depth - 1}")
    if not 0 <= args.discard_ratio < 1:
        raise UserError(f"--discard-ratio {args.discard_ratio}: must be at least 0 and below 1")
    layer = depth - 1 if args.layer is None else args.layer
    mask, heads = explain(model, image, mean, std, layer, args.discard_ratio)
    size = model.patch_embed.img_size
    shown = np.asarray(image.resize((max(size[1], 224), max(size[0], 224)), resample=3), dtype=np.float32) / 255
    draw_attention(shown, mask, heads, out, title=f"{args.image.name}: {what}, rollout through block {layer}",
                   layer=layer)
    print(out)
    return 0


def _read_image(path: Path):
    from PIL import Image, UnidentifiedImageError

    from studykit.errors import UserError, require_file

    require_file(path, "image file")
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))  # transparency over white
                return Image.alpha_composite(flat, rgba).convert("RGB")
            return img.convert("RGB")  # grayscale, palette, CMYK... -> 3 channels
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        raise UserError(f"{path}: not a readable image ({err})") from None


def _load_model(args, load_model):
    """The model, its input normalisation and a few words on what it is."""
    from studykit.errors import UserError

    try:
        model, mean, std, dataset = load_model(args.checkpoint, args.model)
    except ValueError as err:
        raise UserError(str(err).replace("\n", " ")) from None
    what = f"{args.checkpoint.name} ({dataset or args.model})" if args.checkpoint else f"{args.model}, random weights"
    if args.checkpoint is None:
        print(f"no --checkpoint: {args.model} has random weights, so this is the chance picture", file=sys.stderr)
    return model, mean, std, what
