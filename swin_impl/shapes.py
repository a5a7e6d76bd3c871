"""Tensor shapes of Swin step by step, labelled with the paper's equations, and their pictures.

The tracer itself is vit_impl's (hooks on every layer, a TorchFunctionMode for the tensor
operations a forward writes); this module says how Swin's steps map to its equations:
Eq.3 for a block's LayerNorms, cyclic shift, window partition, residuals and MLP, Eq.4 for
the attention inside the windows. Patch partition, patch merging and the head come with
no equation ("").
"""

from __future__ import annotations

import re
from itertools import groupby

from vit_impl import diagram
from vit_impl import shapes as vit_shapes
from vit_impl.equations import Equation
from vit_impl.shapes import Labels, ShapeStep, collapse_blocks, trace_named

# The bands of the pictures: what each label covers in this paper.
# One line each: a band can be one step high.
TITLES = {
    "§3.1": "patches, merging",
    "Eq.3": "(S)W-MSA blocks",
    "Eq.4": "window attention",
    "": "LN, pool, head",
}


def _eq_of_layer(path: str) -> str:
    parts = path.split(".")
    if "attn" in parts:
        return "Eq.4"
    if "blocks" in parts:
        return "Eq.3"
    if parts[0] == "patch_embed" or "downsample" in parts:
        return "§3.1"
    return ""


LABELS = Labels(layer=_eq_of_layer, operation=lambda owner, steps: _eq_of_layer(owner))


def trace_model(name: str, batch: int = 2, img_size: int | None = None) -> list[ShapeStep]:
    """The steps of a named swin_impl model on a (batch, 3, S, S) input, every block included (on the meta device)."""
    from swin_impl.configs import create_model

    return trace_named(create_model, name, batch, img_size, LABELS)


def trace_equation(eq: Equation) -> list[ShapeStep]:
    """The steps of one registry equation's module on its example input, all labelled `eq.id`."""
    return vit_shapes.trace_equation(eq, LABELS)


collapse = collapse_blocks

# "layers.2.blocks" in "layers.2.blocks.1.attn.qkv"; "layers.1.downsample" in "layers.1.downsample: x.flatten(3)".
_STAGE_BLOCKS = re.compile(r"^(layers\.\d+\.blocks)\.(\d+)(?=[.:]|$)")
_MERGE_GATHER = re.compile(r"^(layers\.\d+\.downsample): ")  # its reshape, permute and flatten
# A whole model's trace is some 300 steps; its picture shows each stage's blocks as one step past this many.
_PICTURE_STEPS = 60


def _fold_key(step: ShapeStep) -> str:
    match = _STAGE_BLOCKS.match(step.module) or _MERGE_GATHER.match(step.module)
    return match.group(1) if match else ""


def fold_stages(steps: list[ShapeStep]) -> list[ShapeStep]:
    """A stage's blocks as one step ("layers.2.blocks: 6 blocks, W-MSA, SW-MSA in turn"), and patch merging's
    gathering of 2x2 neighbours as one step: the pyramid at a glance, for pictures of a whole model."""
    out = []
    for key, run in groupby(steps, key=_fold_key):
        run = list(run)
        if not key:
            out.extend(run)
        elif key.endswith("downsample"):
            out.append(ShapeStep(f"{key}: 2x2 neighbours side by side", run[0].eq, run[0].input_shape,
                                 run[-1].output_shape))
        else:
            blocks = {int(_STAGE_BLOCKS.match(s.module).group(2)): s.repeat for s in run}
            shifted = any(".roll(" in s.module for s in run)
            kind = "W-MSA, SW-MSA in turn" if shifted else "W-MSA (one window: no shift)"
            out.append(ShapeStep(f"{key}: {sum(blocks.values())} blocks, {kind}", run[0].eq, run[0].input_shape,
                                 run[-1].output_shape))
    return out


_ATTENTION = re.compile(r"^((?:[\w.]+\.)?attn)(?=[.:]|$)")


def fold_attention(steps: list[ShapeStep]) -> list[ShapeStep]:
    """The steps inside each WindowAttention as one step: for pictures of blocks, where Eq.4 has its own."""
    out = []
    for key, run in groupby(steps, key=lambda s: (m := _ATTENTION.match(s.module)) and m.group(1)):
        run = list(run)
        if key:
            out.append(ShapeStep(f"{key}: attention in every window (Eq.4)", run[0].eq, run[0].input_shape,
                                 run[-1].output_shape, run[0].repeat))
        else:
            out.extend(run)
    return out


def _pictured(steps: list[ShapeStep]) -> list[ShapeStep]:
    """What a picture shows: a whole model stage by stage, two blocks (Eq.3) without the inside of attention."""
    if len(steps) <= _PICTURE_STEPS:
        return steps
    if any(_STAGE_BLOCKS.match(s.module) for s in steps):
        return fold_stages(steps)
    return fold_attention(steps)


def png(steps: list[ShapeStep], title: str = "") -> bytes:
    """The flow of `steps` as PNG bytes; a whole model is drawn stage by stage (the table lists every step)."""
    return diagram.png(_pictured(steps), title, titles=TITLES)


def mermaid(steps: list[ShapeStep]) -> str:
    """A Mermaid flowchart of `steps`, a whole model folded as in `png`."""
    return diagram.mermaid(_pictured(steps), titles=TITLES)
