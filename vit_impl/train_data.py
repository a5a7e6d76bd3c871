"""The training data pipeline: images per example (with AutoAugment/RandAugment), crop, flip and normalisation per batch."""

from __future__ import annotations

import sys

import torch
import torch.nn.functional as F

from vit_impl.data import ImageSet, cifar10_splits, shapes_splits
from vit_impl.train_config import TrainConfig, TrainError


class Images(torch.utils.data.Dataset):
    """An ImageSet as uint8 (3, H, W) images, with torchvision's AutoAugment or RandAugment when asked.

    The policy runs per image, in the loader's workers; crop, flip and normalisation run on whole
    batches on the device (`crop_flip`, `normalise`), which is what makes a CPU epoch fast.
    """

    def __init__(self, data: ImageSet, augment: str = "none"):
        self.data = data
        self.policy = _policy(augment)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i):
        img = self.data.images[i]
        return (self.policy(img) if self.policy else img), self.data.labels[i]


def _policy(augment: str):
    if augment not in ("autoaugment", "randaugment"):
        return None
    try:
        from torchvision.transforms import v2
    except ImportError:
        print(f"torchvision is not installed: --augment {augment} falls back to crop + flip", file=sys.stderr)
        return None
    if augment == "autoaugment":
        return v2.AutoAugment(v2.AutoAugmentPolicy.CIFAR10)
    return v2.RandAugment(num_ops=2, magnitude=9)


def crop_flip(x: torch.Tensor) -> torch.Tensor:
    """Random crop after reflect-padding by H/8, and a random horizontal flip, per image of a (B, C, H, W) batch."""
    B, _, H, W = x.shape
    pad = H // 8
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")  # (B, C, H + 2 pad, W + 2 pad)
    top = torch.randint(0, 2 * pad + 1, (B, 1), device=x.device)
    left = torch.randint(0, 2 * pad + 1, (B, 1), device=x.device)
    rows = (top + torch.arange(H, device=x.device))[:, None, :, None]  # (B, 1, H, 1)
    cols = (left + torch.arange(W, device=x.device))[:, None, None, :]  # (B, 1, 1, W)
    flip = torch.rand(B, device=x.device) < 0.5
    cols = torch.where(flip[:, None, None, None], 2 * left[:, None, None] + W - 1 - cols, cols)
    b = torch.arange(B, device=x.device)[:, None, None, None]
    c = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[b, c, rows, cols]  # (B, C, H, W)


def normalise(x: torch.Tensor, data: ImageSet) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> float, each channel to zero mean and unit variance over the training set."""
    mean = torch.tensor(data.mean, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(data.std, device=x.device).view(1, 3, 1, 1)
    return (x.float() / 255 - mean) / std


def load_data(config: TrainConfig) -> tuple[ImageSet, ImageSet]:
    if config.dataset == "cifar10":
        if config.img_size != 32:
            raise TrainError(f"--img-size {config.img_size}: CIFAR-10 images are 32x32")
        return cifar10_splits(config.data_dir)
    return shapes_splits(config.img_size, config.seed, config.train_size or 20000, config.val_size or 2000)
