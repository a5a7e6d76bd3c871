"""The two training sets: CIFAR-10 (read from its python batches) and `shapes` (generated here).

Both come back as an `ImageSet`: uint8 images (N, 3, H, W) and int64 labels (N,), the whole
set in memory (CIFAR-10 is 180 MB as uint8), so a data loader only indexes and augments.
"""

from __future__ import annotations

import io
import pickle
import socket
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# Per-channel mean and std of the CIFAR-10 training images, the usual normalisation.
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)

# `shapes`: one object per image; its class is the (shape, colour) pair.
SHAPES_CLASSES = (
    ("circle", "red"), ("circle", "green"), ("circle", "blue"), ("circle", "yellow"),
    ("square", "red"), ("square", "green"), ("square", "blue"),
    ("triangle", "red"), ("triangle", "green"), ("triangle", "blue"),
)
_RGB = {"red": (0.9, 0.15, 0.1), "green": (0.1, 0.8, 0.2), "blue": (0.15, 0.3, 0.95), "yellow": (0.95, 0.85, 0.1)}
_CHUNK = 1000
SHAPES_MEAN, SHAPES_STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)


class DatasetError(ValueError):
    """A dataset that is missing or unreadable; the message says what to do."""


@dataclass
class ImageSet:
    images: torch.Tensor  # (N, 3, H, W) uint8
    labels: torch.Tensor  # (N,) int64
    classes: tuple[str, ...]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    boxes: torch.Tensor | None = None  # (N, 4) x0, y0, x1, y1 in pixels, end exclusive; shapes only

    def __len__(self) -> int:
        return len(self.labels)


# --- shapes -------------------------------------------------------------------------------


def make_shapes(n: int, img_size: int = 32, seed: int = 0) -> ImageSet:
    """`n` images of one coloured circle, square or triangle on a noisy grey background.

    Deterministic in `seed`. The object's side is img_size/4 to img_size/2, so its bounding box
    covers 1/16 to 1/4 of the image; `boxes` holds it.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(SHAPES_CLASSES), n)
    side = rng.integers(img_size // 4, img_size // 2 + 1, n)  # (n,)
    x0 = (rng.random(n) * (img_size - side + 1)).astype(int)  # the object lies fully inside
    y0 = (rng.random(n) * (img_size - side + 1)).astype(int)

    grey = rng.uniform(0.15, 0.6, n).astype(np.float32)
    colour = np.array([_RGB[SHAPES_CLASSES[c][1]] for c in labels], np.float32)  # (n, 3)
    colour += rng.uniform(-0.08, 0.08, colour.shape).astype(np.float32)
    kind = np.array([("circle", "square", "triangle").index(SHAPES_CLASSES[c][0]) for c in labels])
    images = torch.empty(n, 3, img_size, img_size, dtype=torch.uint8)
    for i in range(0, n, _CHUNK):  # chunks keep the (n, H, W) temporaries in cache
        j = slice(i, i + _CHUNK)
        images[j] = _render(img_size, x0[j], y0[j], side[j], kind[j], colour[j], grey[j], rng)
    boxes = torch.from_numpy(np.stack([x0, y0, x0 + side, y0 + side], 1))
    names = tuple(f"{colour} {shape}" for shape, colour in SHAPES_CLASSES)
    return ImageSet(images, torch.from_numpy(labels), names, SHAPES_MEAN, SHAPES_STD, boxes)


def _render(img_size, x0, y0, side, kind, colour, grey, rng) -> torch.Tensor:
    yy, xx = np.mgrid[0:img_size, 0:img_size].astype(np.float32) + 0.5  # pixel centres, (H, W)
    s, left, top = side[:, None, None], x0[:, None, None], y0[:, None, None]
    u, v = (xx - left) / s, (yy - top) / s  # (n, H, W) position inside the box, 0..1 when inside
    inside = (u >= 0) & (u < 1) & (v >= 0) & (v < 1)
    circle = (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25
    triangle = np.abs(u - 0.5) <= v / 2  # apex at the top centre, base along the bottom
    k = kind[:, None, None]
    mask = inside & np.where(k == 0, circle, np.where(k == 2, triangle, True))
    img = np.where(mask[:, None], colour[:, :, None, None], grey[:, None, None, None])  # (n, 3, H, W)
    img += rng.standard_normal(img.shape, dtype=np.float32) * 0.06
    return torch.from_numpy((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8))


def shapes_splits(img_size: int = 32, seed: int = 0, n_train: int = 20000, n_val: int = 2000) -> tuple[ImageSet, ImageSet]:
    """Train and validation sets from distinct seeds, so no validation image is a training image."""
    return make_shapes(n_train, img_size, seed), make_shapes(n_val, img_size, seed + 1_000_003)


# --- CIFAR-10 -----------------------------------------------------------------------------


class _NumpyOnly(pickle.Unpickler):
    """The CIFAR batches are pickles; allow the numpy array they hold and nothing that runs code."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name}")
        return super().find_class(module, name)


def cifar10_splits(data_dir: str | Path, download: bool = True) -> tuple[ImageSet, ImageSet]:
    """CIFAR-10 train (50,000) and test (10,000) from `data_dir`, downloading it where that can work."""
    data_dir = Path(data_dir)
    source = _find_cifar(data_dir)
    if source is None and download and _can_download():
        import torchvision  # noqa: F401 (checked importable by _can_download)
        from torchvision.datasets import CIFAR10

        CIFAR10(str(data_dir), train=True, download=True)
        source = _find_cifar(data_dir)
    if source is None:
        raise DatasetError(
            f"{data_dir}: CIFAR-10 not found and it cannot be downloaded here; put {CIFAR10_ARCHIVE} "
            f"(from {CIFAR10_URL}) at {data_dir / CIFAR10_ARCHIVE}, or its extracted folder at {data_dir / CIFAR10_FOLDER}"
        )
    read = _batch_reader(source)
    train = [read(f"data_batch_{i}") for i in range(1, 6)]
    test = read("test_batch")
    return _cifar_set(train), _cifar_set([test])


def _find_cifar(data_dir: Path) -> Path | None:
    for candidate in (data_dir / CIFAR10_FOLDER, data_dir, data_dir / CIFAR10_ARCHIVE):
        if candidate.is_dir() and (candidate / "data_batch_1").is_file():
            return candidate
        if candidate.is_file():
            return candidate
    return None


def _can_download() -> bool:
    try:
        import torchvision  # noqa: F401
    except ImportError:
        return False
    try:
        socket.create_connection(("www.cs.toronto.edu", 443), timeout=3).close()
    except OSError:
        return False
    return True


def _batch_reader(source: Path):
    """A function name -> (data (N, 3072) uint8, labels) over the folder or the .tar.gz."""
    if source.is_dir():
        def read(name):
            path = source / name
            if not path.is_file():
                raise DatasetError(f"{path}: missing; the CIFAR-10 folder is incomplete (re-extract {CIFAR10_ARCHIVE})")
            return _parse_batch(path.read_bytes(), path)
        return read
    try:
        tar = tarfile.open(source, "r:gz")
        members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
    except (tarfile.TarError, OSError, EOFError) as err:
        raise DatasetError(f"{source}: not a readable {CIFAR10_ARCHIVE}, corrupt or truncated? ({err})") from err

    def read(name):
        if name not in members:
            raise DatasetError(f"{source}: has no {name}; is it {CIFAR10_ARCHIVE} (the python version)?")
        try:
            return _parse_batch(tar.extractfile(members[name]).read(), f"{source}:{name}")
        except (tarfile.TarError, OSError, EOFError) as err:
            raise DatasetError(f"{source}: corrupt or truncated archive ({err})") from err
    return read


def _parse_batch(raw: bytes, where) -> tuple[np.ndarray, np.ndarray]:
    try:
        batch = _NumpyOnly(io.BytesIO(raw), encoding="bytes").load()
        data, labels = np.asarray(batch[b"data"], dtype=np.uint8), np.asarray(batch[b"labels"], dtype=np.int64)
    except Exception as err:  # a damaged pickle fails in arbitrary ways
        raise DatasetError(f"{where}: not a CIFAR-10 python batch, corrupt? ({type(err).__name__}: {err})") from err
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data) or labels.min() < 0 or labels.max() > 9:
        raise DatasetError(f"{where}: not a CIFAR-10 batch (data {data.shape}, {len(labels)} labels)")
    return data, labels


def _cifar_set(batches) -> ImageSet:
    data = np.concatenate([d for d, _ in batches])
    labels = np.concatenate([lab for _, lab in batches])
    images = torch.from_numpy(data.reshape(-1, 3, 32, 32).copy())  # rows are R(1024) G(1024) B(1024)
    return ImageSet(images, torch.from_numpy(labels), CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD)
