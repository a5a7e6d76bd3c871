"""The pictures of windows, shift and mask, and of the stage pyramid, drawn from swin_impl's own functions."""

import torch

from swin_impl.pictures import _regions, pyramid_png, windows_png


def _size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_regions_read_from_the_mask_are_the_shifted_windows_of_the_image():
    """Two tokens share a region exactly when the windows moved by M/2 put them together (the paper's Figure 2)."""
    size, window, shift = 8, 4, 2
    regions = _regions(size, window, shift)
    band = lambda i: 0 if i < shift else (1 if i < shift + window else 2)  # rows/cols 0-1, 2-5, 6-7
    expected = torch.tensor([[band(r) * 3 + band(c) for c in range(size)] for r in range(size)])
    same = regions.flatten()[:, None] == regions.flatten()[None, :]
    assert torch.equal(same, expected.flatten()[:, None] == expected.flatten()[None, :])
    assert len(torch.unique(regions)) == 9


def test_windows_picture_and_pyramid_are_pngs_of_a_readable_size():
    w, h = _size(windows_png())
    assert 1400 <= w <= 2000 and 400 <= h <= 700  # four panels side by side
    w, h = _size(pyramid_png("swin_tiny_patch4_window7_224"))
    assert 1200 <= w <= 1600 and 400 <= h <= 800
