"""Does the rollout look at the object? Rollout mass inside the object's box, trained model vs random init.

    python bench/train_shapes.py                # writes bench/out/train_shapes/best.pt
    python bench/attention_localisation.py      # held-out shapes images, objects <= 1/4 of the image

For each held-out image: the class token's attention rollout over the patch grid (each patch's
mass spread over its pixels), and the fraction of it inside the object's bounding box. Chance
is the box's share of the image; randomly initialised models of the same shape (5 seeds) show
what the architecture does before learning. Prints mean, median and the share of images >= 0.5,
for the rollout as the paper defines it and for vit-explain's variant that first discards the
90% weakest attention weights of each block.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from vit_impl.attention import attention_maps, attention_rollout, cls_mask, mass_in_box
from vit_impl.checkpoint import load_checkpoint
from vit_impl.data import make_shapes
from vit_impl.model import VisionTransformer
from vit_impl.train import normalise

HELD_OUT_SEED = 424242  # neither the training (seed) nor the validation (seed + 1_000_003) set


def rollout_mass(model, data, discard_ratio: float, batch: int = 250) -> torch.Tensor:
    masses = []
    grid = model.patch_embed.grid_size
    for i in range(0, len(data), batch):
        x = normalise(data.images[i : i + batch], data)
        rollout = attention_rollout(attention_maps(model, x), discard_ratio=discard_ratio)
        mask = cls_mask(rollout, grid, model.num_prefix_tokens)
        masses.append(mass_in_box(mask, data.boxes[i : i + batch], data.images.shape[-1]))
    return torch.cat(masses)


def summary(name: str, m: torch.Tensor) -> str:
    return (f"{name:<28} mean {m.mean():.3f}  median {m.median():.3f}  "
            f"images >= 0.5: {100 * (m >= 0.5).float().mean():5.1f}%")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", type=Path, default=Path("bench/out/train_shapes/best.pt"))
    p.add_argument("--images", type=int, default=1000)
    args = p.parse_args()
    if not args.checkpoint.is_file():
        sys.exit(f"{args.checkpoint}: no trained model; run python bench/train_shapes.py first")
    torch.set_num_threads(1)
    kw = torch.load(args.checkpoint, map_location="cpu", weights_only=True)["model_config"]
    trained = load_checkpoint(VisionTransformer(**kw), args.checkpoint).eval()

    data = make_shapes(args.images, kw["img_size"], seed=HELD_OUT_SEED)
    x0, y0, x1, y1 = data.boxes.T
    area = (x1 - x0) * (y1 - y0) / kw["img_size"] ** 2
    keep = area <= 0.25
    data.images, data.labels, data.boxes, area = data.images[keep], data.labels[keep], data.boxes[keep], area[keep]

    with torch.no_grad():
        logits = trained(normalise(data.images, data))
    top1 = (logits.argmax(-1) == data.labels).float().mean()
    print(f"{len(data)} held-out shapes images of {kw['img_size']} px, object box 1/16..1/4 of the image "
          f"(mean {area.mean():.3f}); trained model top-1 on them {100 * top1:.1f}%")
    print(summary("chance (box area)", area))
    for discard in (0.0, 0.9):
        label = "Abnar & Zuidema rollout" if discard == 0 else f"rollout, discard_ratio {discard}"
        print(f"-- {label}")
        ours = rollout_mass(trained, data, discard)
        print(summary(f"trained ({args.checkpoint.name})", ours))
        randoms = []
        for seed in range(5):
            torch.manual_seed(seed)
            randoms.append(rollout_mass(VisionTransformer(**kw).eval(), data, discard))
        rand = torch.stack(randoms).mean(0)
        print(summary("random init (5 seeds)", rand))
        print(f"trained / chance: {ours.mean() / area.mean():.2f}x; random init / chance: {rand.mean() / area.mean():.2f}x")

if __name__ == "__main__":
    main()
