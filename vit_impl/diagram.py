"""Pictures of a shape trace: a matplotlib PNG of the flow and a Mermaid flowchart for Obsidian.

Both draw the chain the learning guide draws by hand, (2,3,224,224) -> (2,196,768) ->
(2,197,768): one box per tensor, the step that made it beside the arrow, grouped and
coloured by the paper's equation.
"""

from __future__ import annotations

import io
from itertools import groupby
from pathlib import Path

from vit_impl.atomic import replacing
from vit_impl.shapes import ShapeStep

# Equation -> (band colour, box colour, edge colour); "" is the head, which no equation covers.
_COLOURS = {
    "Eq.1": ("#eaf2fb", "#c6dcf5", "#2f6db5"),
    "Eq.2": ("#fdf0e4", "#f9d3ae", "#c8651b"),
    "Eq.3": ("#eaf6ea", "#c4e6c4", "#2e8b3e"),
    "Eq.4": ("#f3edf9", "#dccbef", "#6f42a8"),
    "": ("#f2f2f2", "#dddddd", "#555555"),
}
_TITLES = {
    "Eq.1": "patches, class token,\nposition embedding",
    "Eq.2": "LN, multi-head\nself-attention, residual",
    "Eq.3": "LN, MLP, residual",
    "Eq.4": "final LN,\nclass token",
    "": "classification head",
}


def _shape(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _groups(steps: list[ShapeStep]):
    """Consecutive runs of steps with the same equation: [(eq, [steps...]), ...]."""
    return [(eq, list(run)) for eq, run in groupby(steps, key=lambda s: s.eq)]


def _repeat_note(run: list[ShapeStep]) -> tuple[str, str]:
    """What a band's repeat count means: ViT's blocks.0 standing for L blocks, or a group of blocks (Swin's pair)."""
    repeat = max(s.repeat for s in run)
    if all(s.module.startswith("blocks.0") for s in run if s.repeat > 1):
        return f"{repeat} blocks", "blocks.0 shown"
    return f"{repeat}", "each block shown"


def _short(module: str, repeat: int) -> str:
    """The step's name with the block prefix dropped where the picture says `x L` already."""
    if repeat > 1 and module.startswith("blocks.0"):
        module = module[len("blocks.0") :].lstrip(".: ")
    return module


def draw(steps: list[ShapeStep], path, title: str = "", titles: dict[str, str] = _TITLES) -> Path:
    """Write the flow of `steps` as a PNG at `path` (atomically) and return the path."""
    path = Path(path)
    data = png(steps, title, titles)
    with replacing(path) as tmp:
        tmp.write_bytes(data)
    return path


def png(steps: list[ShapeStep], title: str = "", titles: dict[str, str] = _TITLES) -> bytes:
    """The flow of `steps` as PNG bytes; `titles` names each equation's band (ViT's by default)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

    row = 0.5  # inches per tensor box
    top = 0.6 if title else 0.3
    width, height = 7.2, top + row * (len(steps) + 1) + 0.25
    fig = plt.figure(figsize=(width, height), dpi=130)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)  # y grows downwards, in inches
    ax.axis("off")
    if title:
        ax.text(0.15, 0.3, title, fontsize=12, fontweight="bold", va="center")
        ax.text(width - 0.15, 0.56, "bold: the step changes the shape", fontsize=7, color="#555555",
                ha="right", va="center")

    band_x, box_x, box_w, box_h = 0.1, 1.75, 1.75, 0.3
    label_x = box_x + box_w + 0.2
    y_of = lambda i: top + row * i + row / 2  # centre of tensor box i; box 0 is the input

    # Equation bands behind the boxes, labelled on the left.
    i = 1
    for eq, run in _groups(steps):
        band, _, edge = _COLOURS.get(eq, _COLOURS[""])
        y0, y1 = y_of(i) - row / 2, y_of(i + len(run) - 1) + row / 2
        ax.add_patch(Rectangle((band_x, y0 + 0.02), width - 2 * band_x, y1 - y0 - 0.04, color=band, zorder=0))
        repeat = max(s.repeat for s in run)
        name = eq or "head"
        ax.text(band_x + 0.08, y0 + 0.1, name, fontsize=11, fontweight="bold", color=edge, va="top")
        sub = titles.get(eq, "")
        if repeat > 1:
            count, shown = _repeat_note(run)
            sub += f"\n\n× {count}\n({shown})"
        ax.text(band_x + 0.08, y0 + 0.34, sub, fontsize=7, color="#333333", va="top", linespacing=1.25)
        i += len(run)

    # The chain of tensors: input first, then the output of every step.
    previous = steps[0].input_shape if steps else ()
    _box(ax, FancyBboxPatch, box_x, y_of(0), box_w, box_h, _shape(previous), "#ffffff", "#333333", True)
    ax.text(label_x, y_of(0), "← input", fontsize=7.5, va="center", family="monospace", color="#333333")
    for i, step in enumerate(steps, start=1):
        _, face, edge = _COLOURS.get(step.eq, _COLOURS[""])
        changed = step.output_shape != step.input_shape
        _box(ax, FancyBboxPatch, box_x, y_of(i), box_w, box_h, _shape(step.output_shape), face, edge, changed)
        ax.add_patch(
            FancyArrowPatch(
                (box_x + box_w / 2, y_of(i - 1) + box_h / 2),
                (box_x + box_w / 2, y_of(i) - box_h / 2),
                arrowstyle="-|>",
                mutation_scale=9,
                color="#555555",
                lw=0.9,
                zorder=1,
            )
        )
        label = "← " + _short(step.module, step.repeat)
        if step.input_shape != previous:  # a side input such as the class token
            label += f"\n   of {_shape(step.input_shape)}"
        ax.text(label_x, y_of(i), label, fontsize=7.5, va="center", family="monospace",
                color="#222222", linespacing=1.15)
        previous = step.output_shape

    return png_bytes(fig)


def png_bytes(fig) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    from matplotlib import pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return buf.getvalue()


def _box(ax, FancyBboxPatch, x, y, w, h, text, face, edge, bold):
    ax.add_patch(
        FancyBboxPatch((x, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.06",
                       facecolor=face, edgecolor=edge, lw=1.1, zorder=2)
    )
    ax.text(x + w / 2, y, text, ha="center", va="center", fontsize=9, family="monospace", zorder=3,
            fontweight="bold" if bold else "normal", color="#111111" if bold else "#555555")


def _quote(text: str) -> str:
    """A Mermaid label in double quotes: parentheses, commas and brackets are then literal."""
    return '"' + text.replace('"', "#quot;") + '"'


def mermaid(steps: list[ShapeStep], titles: dict[str, str] = _TITLES) -> str:
    """A Mermaid `flowchart TD` of `steps`, one subgraph per equation, for an Obsidian note."""
    lines = ["flowchart TD"]
    first = steps[0].input_shape if steps else ()
    lines.append(f"    s0[{_quote('input<br/>' + _shape(first))}]")
    i = 1
    for n, (eq, run) in enumerate(_groups(steps)):
        repeat = max(s.repeat for s in run)
        heading = f"{eq or 'head'}: {titles.get(eq, '').replace(chr(10), ' ')}"
        if repeat > 1:
            count, shown = _repeat_note(run)
            heading += f" (x {count}, {shown})"
        lines.append(f"    subgraph g{n}[{_quote(heading)}]")
        for step in run:
            label = f"{_short(step.module, step.repeat)}<br/>{_shape(step.output_shape)}"
            lines.append(f"        s{i}[{_quote(label)}]")
            i += 1
        lines.append("    end")
    lines.append("    " + " --> ".join(f"s{k}" for k in range(i)))
    for n, (eq, _) in enumerate(_groups(steps)):
        band, _, edge = _COLOURS.get(eq, _COLOURS[""])
        lines.append(f"    style g{n} fill:{band},stroke:{edge}")
    return "\n".join(lines) + "\n"
