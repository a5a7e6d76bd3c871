"""Pictures of what Swin does to the token map, drawn from the model's own functions (PNG bytes).

`windows_png`: the regular windows, the shifted windows, the same after the cyclic shift,
and the attention mask that keeps tokens rolled in from the far side apart.
`pyramid_png`: the four stages, 56 -> 28 -> 14 -> 7 tokens a side and 96 -> 768 channels,
with the fixed 7 x 7 windows drawn in each, so the shrinking number of windows shows.
"""

from __future__ import annotations

import torch

from swin_impl.windows import shifted_window_mask, window_partition
from vit_impl.diagram import png_bytes

# Nine colours for the nine regions of a shifted map (tab10 without its grey).
_REGION_COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f"]
_WINDOW_COLOURS = ["#c6dcf5", "#f9d3ae", "#c4e6c4", "#dccbef"]


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt, plt.figure(figsize=(width, height), dpi=130)


def _regions(size: int, window: int, shift: int) -> torch.Tensor:
    """(size, size) region of every token of the image in the shifted partition, 0..8, as the mask sees them."""
    labels = torch.arange(size * size).view(1, size, size, 1).float()
    # Which window of the shifted map each token lands in: roll, cut windows, number them, roll back.
    rolled = torch.roll(labels, shifts=(-shift, -shift), dims=(1, 2))
    windows = window_partition(rolled, (window, window)).view(-1, window * window)
    region = torch.empty(size * size, dtype=torch.long)
    mask = shifted_window_mask(size, size, (window, window), (shift, shift))
    for w, tokens in enumerate(windows.long()):
        # Tokens that may attend to the window's first token share its region; number regions per window.
        for i, token in enumerate(tokens):
            group = int((mask[w, i] == 0).nonzero()[0])  # the first token of the window this one may see
            region[token] = w * window * window + group
    _, dense = torch.unique(region, return_inverse=True)
    return dense.view(size, size)


def windows_png(size: int = 8, window: int = 4) -> bytes:
    """Four panels on a size x size token map: W-MSA windows, SW-MSA windows, after the cyclic shift, the mask."""
    shift = window // 2
    plt, fig = _figure(13.0, 4.2)
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 1.05]})
    fig.subplots_adjust(left=0.02, right=0.98, top=0.86, bottom=0.05, wspace=0.22)
    fig.suptitle(
        f"Windows on an {size}x{size} token map, window M = {window}, shift M/2 = {shift}",
        fontsize=12, fontweight="bold", x=0.02, ha="left",
    )
    index = torch.arange(size * size).view(size, size)
    regions = _regions(size, window, shift)

    def grid(ax, colours, numbers, title, lines, note):
        for r in range(size):
            for c in range(size):
                ax.add_patch(plt.Rectangle((c, r), 1, 1, facecolor=colours(r, c), edgecolor="white", lw=0.8))
                ax.text(c + 0.5, r + 0.5, str(int(numbers[r, c])), ha="center", va="center", fontsize=7, color="#111111")
        for k in lines:
            ax.axhline(k, color="#111111", lw=2.2)
            ax.axvline(k, color="#111111", lw=2.2)
        ax.set_xlim(0, size), ax.set_ylim(size, 0), ax.set_aspect("equal"), ax.axis("off")
        ax.set_title(title, fontsize=9.5, loc="left")
        ax.text(0, size + 0.35, note, fontsize=7.5, va="top", color="#333333", wrap=True)

    light = lambda colour: colour + "88"  # the region colours, see-through
    grid(axes[0], lambda r, c: _WINDOW_COLOURS[((r // window) * (size // window) + c // window) % 4], index, "1. W-MSA: regular windows", range(0, size + 1, window),
         f"{(size // window) ** 2} windows of {window}x{window} tokens;\nattention stays inside each.")
    grid(axes[1], lambda r, c: light(_REGION_COLOURS[int(regions[r, c]) % 9]), index,
         "2. SW-MSA: windows moved by M/2", [0, shift, shift + window, size],
         f"{len(torch.unique(regions))} windows, some smaller: they cross\nthe borders of step 1.")
    rolled_index = torch.roll(index, shifts=(-shift, -shift), dims=(0, 1))
    rolled_regions = torch.roll(regions, shifts=(-shift, -shift), dims=(0, 1))
    grid(axes[2], lambda r, c: light(_REGION_COLOURS[int(rolled_regions[r, c]) % 9]), rolled_index,
         f"3. Cyclic shift: roll by (-{shift}, -{shift})", range(0, size + 1, window),
         "Regular windows again; the last row and column\nof windows mix colours that must not attend.")

    # 4. The mask of the bottom-right window of step 3: which of its tokens may attend to which.
    ax = axes[3]
    mask = shifted_window_mask(size, size, (window, window), (shift, shift))[-1]  # (N, N)
    tokens = window_partition(rolled_index.view(1, size, size, 1), (window, window))[-1].flatten()
    colours = [_REGION_COLOURS[int(regions.flatten()[t]) % 9] for t in tokens]
    n = window * window
    ax.imshow((mask == 0).float(), cmap="Greys", vmin=-0.4, vmax=1.6, extent=(0, n, n, 0), interpolation="nearest")
    for i, colour in enumerate(colours):  # each row's and column's token, in its region colour
        ax.add_patch(plt.Rectangle((-1.1, i), 1, 1, facecolor=colour, clip_on=False))
        ax.add_patch(plt.Rectangle((i, -1.1), 1, 1, facecolor=colour, clip_on=False))
        ax.text(-1.6, i + 0.5, str(int(tokens[i])), fontsize=6, ha="right", va="center")
    ax.set_xlim(-2.5, n), ax.set_ylim(n, -1.3), ax.set_aspect("equal"), ax.axis("off")
    ax.set_title("4. Mask of the bottom-right window", fontsize=9.5, loc="left")
    ax.text(-2.5, n + 0.55, "dark: query row may attend to key column (0);\nlight: -100, softmax gives it 0 weight.",
            fontsize=7.5, va="top", color="#333333")
    return png_bytes(fig)


def pyramid_png(model_name: str = "swin_tiny_patch4_window7_224") -> bytes:
    """The stages of a named model as squares of its token maps, its M x M windows drawn in, channels beside."""
    from swin_impl.complexity import stage_costs
    from swin_impl.configs import create_model

    with torch.device("meta"):
        model = create_model(model_name)
    stages = stage_costs(model)
    img = model.patch_embed.img_size[0]
    plt, fig = _figure(11.0, 4.6)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 11.0), ax.set_ylim(4.6, 0), ax.axis("off")
    ax.text(0.25, 0.35, f"{model_name}: four stages, each half the size and twice the channels", fontsize=12,
            fontweight="bold", va="center")
    ax.text(0.25, 0.68, f"a {img}x{img} image; squares drawn to scale, one cell per window of "
            f"{stages[0].M}x{stages[0].M} tokens (the window never grows, so deeper stages have fewer)",
            fontsize=8, color="#444444", va="center")

    biggest = 2.6  # inches for stage 1's side
    x, base = 0.35, 3.75  # squares stand on one line
    colours = ["#c6dcf5", "#f9d3ae", "#c4e6c4", "#dccbef"]
    edges = ["#2f6db5", "#c8651b", "#2e8b3e", "#6f42a8"]
    for i, s in enumerate(stages):
        side = biggest * s.h / stages[0].h
        top = base - side
        ax.add_patch(plt.Rectangle((x, top), side, side, facecolor=colours[i % 4], edgecolor=edges[i % 4], lw=1.6))
        per_side = -(-s.h // s.M)  # windows per side
        for k in range(1, per_side):
            offset = side * k * s.M / s.h
            ax.plot([x + offset, x + offset], [top, base], color=edges[i % 4], lw=0.6)
            ax.plot([x, x + side], [top + offset, top + offset], color=edges[i % 4], lw=0.6)
        ax.text(x, base + 0.22, f"stage {s.stage}", fontsize=10, fontweight="bold", color=edges[i % 4], va="center")
        ax.text(x, base + 0.47, f"{s.h}x{s.w} tokens, C = {s.C}", fontsize=8.5, va="center", family="monospace")
        windows = per_side * per_side
        ax.text(x, base + 0.7, f"{windows} window{'s' if windows > 1 else ''}", fontsize=8.5, va="center",
                family="monospace")
        if i < len(stages) - 1:
            after = x + max(side, 1.85) + 0.6  # room for the labels under a small square
            ax.annotate("", xy=(after - 0.1, base - 0.3), xytext=(x + side + 0.1, base - 0.3),
                        arrowprops=dict(arrowstyle="-|>", color="#555555", lw=1.2))
            ax.text((x + side + after) / 2, base - 0.45, "patch\nmerging", fontsize=7, ha="center", va="bottom",
                    color="#555555")
            x = after
    return png_bytes(fig)
