"""vit_impl and swin_impl against timm on a GPU: same weights, same batch, outputs and gradients.

    python bench/gpu_equivalence.py     # needs CUDA; exit 1 where a difference is over its tolerance

The tests compare on CPU in float32; this is the same comparison where kernels differ (cuDNN,
fused attention, bfloat16 autocast), which no test machine has.
"""

from __future__ import annotations

import sys

import torch
import torch.nn.functional as F

from vit_throughput import twin_models

MODELS = ("vit_base_patch16_224", "swin_tiny_patch4_window7_224")
# float32 with TF32 off: only summation order differs. bf16 autocast: 8 bits of mantissa, so
# the two models' logits are compared relative to the logits' own spread.
TOLERANCE = {"fp32": 1e-4, "bf16": 5e-2}


def differences(name: str, dtype: str, device: torch.device) -> tuple[float, float]:
    """(largest logit difference, largest gradient difference), relative to the largest magnitude."""
    torch.manual_seed(0)
    ours, theirs = twin_models(name, device)
    x = torch.randn(8, 3, 224, 224, device=device)
    labels = torch.randint(0, 1000, (8,), device=device)
    results = []
    for model in (ours, theirs):
        model.eval()  # no dropout or stochastic depth (Swin-T has drop_path_rate 0.1); gradients still flow
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dtype == "bf16"):
            logits = model(x)
        F.cross_entropy(logits.float(), labels).backward()
        grads = torch.cat([p.grad.flatten().float() for _, p in sorted(model.named_parameters())])
        results.append((logits.float(), grads))
    (a, ga), (b, gb) = results
    return ((a - b).abs().max() / b.abs().max()).item(), ((ga - gb).abs().max() / gb.abs().max()).item()


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to compare", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    device = torch.device("cuda")
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}")
    print("| model | precision | logits, max rel. difference | gradients, max rel. difference | tolerance |")
    print("|---|---|---:|---:|---:|")
    failed = False
    for name in MODELS:
        for dtype, tol in TOLERANCE.items():
            logits, grads = differences(name, dtype, device)
            failed |= max(logits, grads) > tol
            print(f"| {name} | {dtype} | {logits:.2e} | {grads:.2e} | {tol:.0e} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
