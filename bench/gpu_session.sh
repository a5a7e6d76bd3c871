#!/usr/bin/env bash
# Everything that needs a GPU, in one call of a few minutes (a GPU is lent to few sessions):
# vit_impl/swin_impl against timm on CUDA, the throughput bench's bf16 rows with MFU, and a short
# cifar10-vit-recipe training run on CUDA (bf16 autocast), alone and under torchrun (one
# process: world size 1, so no nccl group is made). Needs no
# install: python -m vit_impl.train is `studykit train` without the paper registry's entry points.
# Results go to $OUT (default ./gpu-out). Run from the repository root.
set -uo pipefail
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
export PYTHONPATH="$PWD:$PWD/bench" PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/machine.txt"
$PY -c "import torch, timm, torchvision; print('torch', torch.__version__, 'timm', timm.__version__, 'torchvision', torchvision.__version__)" | tee -a "$OUT/machine.txt"
timeout 150 $PY bench/gpu_equivalence.py 2>&1 | tee "$OUT/equivalence.txt"
timeout 300 $PY bench/vit_throughput.py --no-cpu 2>&1 | tee "$OUT/throughput.txt"
train=(-m vit_impl.train --dataset shapes --recipe cifar10-vit --epochs 3 --train-size 8192 --val-size 2048 --device cuda)
timeout 120 $PY "${train[@]}" --out /tmp/gpu-train 2>&1 | tee "$OUT/train.txt"
timeout 120 $PY -m torch.distributed.run --nproc_per_node 1 "${train[@]}" --out /tmp/gpu-ddp 2>&1 | tee "$OUT/train-ddp.txt"
cp /tmp/gpu-train/metrics.jsonl "$OUT/metrics.jsonl"; cp /tmp/gpu-train/curves.png "$OUT/curves.png"
