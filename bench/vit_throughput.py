"""Images per second of vit_impl and swin_impl against timm, same weights, same process, interleaved.

    python bench/vit_throughput.py            # float32 on CPU: ViT-S/16, ViT-B/16 and Swin-T, batch 8 and 32
    python bench/vit_throughput.py --quick    # fewer repeats, shorter measurements
    python bench/vit_throughput.py --compile  # also torch.compile rows
    python bench/vit_throughput.py --threads 1 --cpu-clock   # on a machine busy with other work

With CUDA present it adds bfloat16-autocast rows with model FLOPs utilisation (MFU); pass
--peak-tflops for a GPU not in PEAK_BF16_TFLOPS. Each row is the median of several
measurements, taken alternately for the two models so that a noisy machine hurts both alike.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import timm
import torch
import torch.nn.functional as F

import swin_impl
import vit_impl

MODELS = ("vit_small_patch16_224", "vit_base_patch16_224", "swin_tiny_patch4_window7_224")
# Dense bf16 tensor-core peaks from the vendors' data sheets, TFLOP/s; the first name found in the GPU's wins.
PEAK_BF16_TFLOPS = {"H100 PCIe": 756.0, "H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0, "A10": 125.0, "4090": 165.0}


@dataclass
class Row:
    model: str
    batch: int
    mode: str  # "inference" or "training"
    dtype: str
    compiled: bool
    ours: float  # images per second
    timm: float
    spread: float  # (slowest - fastest) / median measurement, the worse of the two models: the noise floor
    mfu: float | None = None  # vit_impl's model FLOPs utilisation, GPU rows only


def forward_macs(model) -> float:
    """Multiply-accumulates of one image's forward pass, counting the matrix products only."""
    pe = model.patch_embed
    n_patches, d = pe.num_patches, model.embed_dim
    n = n_patches + model.num_prefix_tokens
    blk = model.blocks[0]
    hidden = blk.mlp.fc1.out_features
    patch = n_patches * d * pe.proj.in_channels * pe.patch_size[0] * pe.patch_size[1]
    per_block = n * d * 3 * d + 2 * n * n * d + n * d * d + 2 * n * d * hidden  # qkv, qk^T and attn@v, proj, MLP
    head = d * model.num_classes
    return patch + len(model.blocks) * per_block + head


def swin_forward_macs(model) -> float:
    """Multiply-accumulates of one image's forward pass through a Swin, matrix products only (Eq.2 per block)."""
    pe = model.patch_embed
    macs = pe.num_patches * model.embed_dim * pe.proj.in_channels * pe.patch_size[0] * pe.patch_size[1]
    for stage in model.layers:
        if not isinstance(stage.downsample, torch.nn.Identity):
            h, w = stage.output_resolution
            macs += h * w * stage.downsample.reduction.in_features * stage.downsample.reduction.out_features
        for blk in stage.blocks:
            h, w = (-(-r // m) * m for r, m in zip(stage.output_resolution, blk.window_size))  # padded map
            C, hidden = blk.dim, blk.mlp.fc1.out_features
            macs += 4 * h * w * C * C + 2 * blk.window_area * h * w * C + 2 * h * w * C * hidden
    return macs + model.num_features * model.num_classes


# Model name prefix -> the package that builds it and its MAC count.
FAMILIES = {"vit_": (vit_impl, forward_macs), "swin_": (swin_impl, swin_forward_macs)}


def family(name: str):
    return next(v for k, v in FAMILIES.items() if name.startswith(k))


def twin_models(name: str, device: torch.device):
    """Our model (vit_impl's or swin_impl's) and timm's of that name, holding the same weights."""
    theirs = timm.create_model(name, pretrained=False)
    ours = family(name)[0].create_model(name)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return ours.to(device), theirs.to(device)


def step_fn(model, mode: str, x: torch.Tensor, labels: torch.Tensor, autocast):
    """One timed step: a forward under inference_mode, or a forward and backward."""
    if mode == "inference":
        model.eval()

        def step():
            with torch.inference_mode(), autocast():
                model(x)

    else:
        model.train()

        def step():
            model.zero_grad(set_to_none=True)
            with autocast():
                loss = F.cross_entropy(model(x), labels)
            loss.backward()

    return step


def sync(device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def seconds_per_step(step, device, iters: int, clock=time.perf_counter) -> float:
    sync(device)
    start = clock()
    for _ in range(iters):
        step()
    sync(device)
    return (clock() - start) / iters


@dataclass
class Timing:
    min_repeats: int  # measurements per model and row, at least and at most
    max_repeats: int
    min_seconds: float  # a measurement runs enough steps to last this long
    row_budget: float  # seconds a row may take, beyond min_repeats
    clock: Callable[[], float] = time.perf_counter


FULL = Timing(min_repeats=3, max_repeats=7, min_seconds=0.5, row_budget=25.0)
QUICK = Timing(min_repeats=2, max_repeats=2, min_seconds=0.2, row_budget=0.0)


def measure(steps: dict, device, warmup: int, timing: Timing) -> dict[str, list[float]]:
    """Seconds per step of each callable, several measurements taken in turns, alternating who goes first."""
    warm = {}
    for key, step in steps.items():  # allocator, oneDNN/cuDNN kernel choice, compilation
        for _ in range(warmup - 1):
            step()
        warm[key] = seconds_per_step(step, device, 1, timing.clock)
    slowest = max(warm.values())
    iters = max(1, round(timing.min_seconds / slowest))
    fit = int(timing.row_budget / (len(steps) * slowest * iters))
    n = min(max(timing.min_repeats, fit), timing.max_repeats)
    times: dict[str, list[float]] = {k: [] for k in steps}
    for r in range(n):
        for key in list(steps) if r % 2 == 0 else list(reversed(steps)):
            times[key].append(seconds_per_step(steps[key], device, iters, timing.clock))
    return times


def run_rows(name, device, batches, modes, dtype, compiled, timing: Timing, peak_tflops) -> None:
    """Measure and print the rows of one model on one device."""
    ours, theirs = twin_models(name, device)
    macs = family(name)[1](ours)
    if compiled:
        ours, theirs = torch.compile(ours), torch.compile(theirs)
    if dtype == "bf16":
        autocast = lambda: torch.autocast(device.type, dtype=torch.bfloat16)  # noqa: E731
    else:
        autocast = contextlib.nullcontext
    for batch in batches:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(batch, 3, 224, 224, generator=gen).to(device)
        labels = torch.randint(0, 1000, (batch,), generator=gen).to(device)
        for mode in modes:
            steps = {m: step_fn(model, mode, x, labels, autocast) for m, model in (("ours", ours), ("timm", theirs))}
            warmup = 3 if compiled or device.type == "cuda" else 1
            times = measure(steps, device, warmup, timing)
            sec = {k: statistics.median(v) for k, v in times.items()}
            spread = max((max(v) - min(v)) / sec[k] for k, v in times.items())
            row = Row(name, batch, mode, dtype, compiled, batch / sec["ours"], batch / sec["timm"], spread)
            if peak_tflops:
                flops_per_image = 2 * macs * (1 if mode == "inference" else 3)  # backward costs about two forwards
                row.mfu = row.ours * flops_per_image / (peak_tflops * 1e12)
            print(format_row(row), flush=True)


HEADER = (
    f"| {'model':<28} | {'batch':>5} | {'mode':<9} | {'dtype':<5} | {'compile':<7} "
    f"| {'ours img/s':>10} | {'timm img/s':>10} | {'ratio':>5} | {'spread':>6} | {'MFU':>5} |"
)


def format_row(r: Row) -> str:
    mfu = f"{100 * r.mfu:4.1f}%" if r.mfu is not None else "-"
    return (
        f"| {r.model:<28} | {r.batch:>5} | {r.mode:<9} | {r.dtype:<5} | {'yes' if r.compiled else 'no':<7} "
        f"| {r.ours:>10.2f} | {r.timm:>10.2f} | {r.ours / r.timm:>5.2f} | {100 * r.spread:>5.1f}% | {mfu:>5} |"
    )


def gpu_peak(args) -> float | None:
    if args.peak_tflops:
        return args.peak_tflops
    name = torch.cuda.get_device_name()
    return next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def describe_machine(device_note: str) -> str:
    def fused(model) -> str:
        return "on" if all(m.fused_attn for m in model.modules() if hasattr(m, "fused_attn")) else "OFF"

    with torch.device("meta"):
        vit, swin = "vit_small_patch16_224", "swin_tiny_patch4_window7_224"
        flags = (f"vit_impl {fused(vit_impl.create_model(vit))}, timm ViT {fused(timm.create_model(vit))}, "
                 f"swin_impl {fused(swin_impl.create_model(swin))}, timm Swin {fused(timm.create_model(swin))}")
    return (
        f"{device_note}; {cpu_name()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads; "
        f"torch {torch.__version__}, timm {timm.__version__}; fused attention (SDPA): {flags}"
    )


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--models", nargs="+", default=list(MODELS), choices=vit_impl.list_models() + swin_impl.list_models(),
        metavar="NAME",
        help="models by timm's names (default: %(default)s)",
    )
    p.add_argument("--batches", nargs="+", type=int, default=[8, 32], help="CPU batch sizes (default: %(default)s)")
    p.add_argument("--gpu-batches", nargs="+", type=int, default=[32, 256], help="GPU batch sizes (default: %(default)s)")
    p.add_argument("--quick", action="store_true", help="2 measurements per row instead of 3 to 7, shorter ones")
    p.add_argument("--compile", action="store_true", help="also measure torch.compile'd models")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument(
        "--cpu-clock", action="store_true",
        help="time CPU rows by the process's CPU time, not wall time: steadier on a machine busy with other "
        "work (needs --threads 1, where the two are the same on an idle machine)",
    )
    p.add_argument("--no-cpu", action="store_true", help="skip the float32 CPU rows")
    p.add_argument("--peak-tflops", type=float, help="GPU bf16 peak for MFU, if the GPU is not in the built-in table")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    timing = QUICK if args.quick else FULL
    if args.cpu_clock and torch.get_num_threads() != 1:
        raise SystemExit("--cpu-clock needs --threads 1: with more threads CPU time adds up over the threads")
    modes = ("inference", "training")
    plans = []  # (device, batches, dtype, peak)
    if not args.no_cpu:
        plans.append((torch.device("cpu"), args.batches, "fp32", None))
    notes = ["CPU float32"] if not args.no_cpu else []
    if torch.cuda.is_available():
        plans.append((torch.device("cuda"), args.gpu_batches, "bf16", gpu_peak(args)))
        notes.append(f"GPU {torch.cuda.get_device_name()} bfloat16 autocast")
    print(describe_machine(" + ".join(notes)))
    with torch.device("meta"):
        macs = {name: family(name)[1](family(name)[0].create_model(name)) / 1e9 for name in args.models}
    print("forward GMACs per image, matrix products only (timm lists 17.58 for ViT-B/16, 4.51 for Swin-T); MFU counts "
          "2 FLOPs per MAC, training 3x the forward: " + ", ".join(f"{k} {v:.2f}" for k, v in macs.items()))
    print(
        f"{timing.min_repeats} to {timing.max_repeats} interleaved measurements per row, median; "
        "ratio = ours / timm (above 1: ours, vit_impl or swin_impl, is faster); "
        "spread = (slowest - fastest) / median of one model's measurements, the larger of the two"
        + ("; CPU rows timed by process CPU time" if args.cpu_clock else "")
    )
    print(HEADER)
    print("|" + "|".join("-" * (len(c)) for c in HEADER.split("|")[1:-1]) + "|")
    start = time.perf_counter()
    for compiled in (False, True) if args.compile else (False,):
        for device, batches, dtype, peak in plans:
            clock = time.process_time if args.cpu_clock and device.type == "cpu" else time.perf_counter
            for name in args.models:
                run_rows(name, device, batches, modes, dtype, compiled, replace(timing, clock=clock), peak)
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
