"""Lossless and lossy building blocks of the codec: temporal runs, box quantisation, mask grids.

All functions are pure numpy and work on one sample at a time.
"""

from __future__ import annotations

import numpy as np


# -- temporal runs ------------------------------------------------------------------------
def runs(sequence: np.ndarray, background: int | None = None) -> list[tuple[int, int, int]]:
    """Maximal runs of equal values as ``(value, start, end_exclusive)``, skipping ``background``."""
    seq = np.asarray(sequence).reshape(-1)
    out: list[tuple[int, int, int]] = []
    start = 0
    for t in range(1, len(seq) + 1):
        if t == len(seq) or seq[t] != seq[start]:
            value = int(seq[start])
            if background is None or value != background:
                out.append((value, start, t))
            start = t
    return out


def binary_runs(row: np.ndarray) -> list[tuple[int, int]]:
    """Runs of ones in a binary row as ``(start, end_exclusive)``."""
    return [(s, e) for v, s, e in runs(np.asarray(row) > 0) if v]


# -- boxes ------------------------------------------------------------------------------------
def rasterised_extent(box: np.ndarray, size: int = 224) -> tuple[int, int, int, int]:
    """Integer pixel bounds of a normalised box as the official VGG-SS GT map builds them."""
    x0, y0, x1, y1 = (int(size * float(np.clip(v, 0.0, 1.0))) for v in box)
    return x0, y0, x1, y1


def box_is_empty(box: np.ndarray, size: int = 224) -> bool:
    """A box that fills no pixel of the official ``size`` x ``size`` GT map (e.g. corrupt rows)."""
    x0, y0, x1, y1 = rasterised_extent(box, size)
    return x1 <= x0 or y1 <= y0


def quantise_box(box: np.ndarray, bins: int) -> tuple[int, int, int, int]:
    """Box edges rounded to the nearest of ``bins + 1`` grid lines; never zero-sized."""
    q = np.rint(np.clip(np.asarray(box, dtype=np.float64), 0.0, 1.0) * bins).astype(int)
    x0, y0, x1, y1 = (int(v) for v in q)
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    if x1 == x0:
        x0, x1 = (x0, x0 + 1) if x0 < bins else (x0 - 1, x0)
    if y1 == y0:
        y0, y1 = (y0, y0 + 1) if y0 < bins else (y0 - 1, y0)
    return x0, y0, x1, y1


def dequantise_box(q: tuple[int, int, int, int], bins: int) -> np.ndarray:
    return np.asarray(q, dtype=np.float32) / np.float32(bins)


def boxes_to_map(boxes: np.ndarray, size: int = 224) -> np.ndarray:
    """Union of normalised boxes as a binary ``size`` x ``size`` map (the official GT rule)."""
    out = np.zeros((size, size), dtype=np.float32)
    for box in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
        x0, y0, x1, y1 = rasterised_extent(box, size)
        out[y0:y1, x0:x1] = 1.0
    return out


def boxes_to_heatmap(boxes: np.ndarray, size: int = 224, falloff: float = 0.25) -> np.ndarray:
    """A heatmap with no ties: 1 inside the boxes (official rasterisation), and outside
    ``0.5 * exp(-distance / falloff)`` to the nearest box (distance in image widths).

    The VGG-SS protocols threshold at the median (EZ-VSL: ``>=``, so at least half the
    pixels are selected); a flat 0/1 map would select every pixel when the boxes cover
    less than half the image, while a map that keeps decreasing away from the boxes
    selects the boxes plus the nearest pixels, which is the best any map can do.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    inside = boxes_to_map(boxes, size)
    if not len(boxes) or inside.all():
        return inside
    centres = (np.arange(size) + 0.5) / size
    dist = np.full((size, size), np.inf)
    for box in boxes:
        x0, y0, x1, y1 = np.clip(box, 0.0, 1.0)
        dx = np.maximum(np.maximum(x0 - centres, centres - x1), 0.0)
        dy = np.maximum(np.maximum(y0 - centres, centres - y1), 0.0)
        dist = np.minimum(dist, np.sqrt(dy[:, None] ** 2 + dx[None, :] ** 2))
    outside = 0.5 * np.exp(-dist / falloff)
    return np.where(inside > 0, 1.0, np.minimum(outside, 0.5)).astype(np.float32)


# -- mask grids -----------------------------------------------------------------------------
def _cell_edges(n: int, grid: int) -> np.ndarray:
    return np.floor(np.arange(grid + 1) * n / grid).astype(int)


def pool_fraction(mask: np.ndarray, grid: int) -> np.ndarray:
    """Fraction of each of ``grid`` x ``grid`` cells covered by a binary (H, W) mask."""
    m = np.asarray(mask, dtype=np.float64)
    h, w = m.shape
    if h % grid == 0 and w % grid == 0:
        return m.reshape(grid, h // grid, grid, w // grid).mean(axis=(1, 3))
    ys, xs = _cell_edges(h, grid), _cell_edges(w, grid)
    # integral image: exact cell means for any H, W
    ii = np.zeros((h + 1, w + 1))
    ii[1:, 1:] = m.cumsum(0).cumsum(1)
    s = ii[ys[1:], :][:, xs[1:]] - ii[ys[:-1], :][:, xs[1:]] - ii[ys[1:], :][:, xs[:-1]] + ii[ys[:-1], :][:, xs[:-1]]
    area = np.outer(np.diff(ys), np.diff(xs))
    return s / np.maximum(area, 1)


def binary_grid(mask: np.ndarray, grid: int) -> np.ndarray:
    """Cells at least half covered by the mask."""
    return (pool_fraction(mask > 0, grid) >= 0.5).astype(np.uint8)


def label_grid(labels: np.ndarray, grid: int, num_classes: int) -> np.ndarray:
    """Majority class per cell (ties go to the lower class index, i.e. background first)."""
    labels = np.asarray(labels)
    present = np.unique(labels)
    best = np.zeros((grid, grid), dtype=np.float64) - 1.0
    out = np.zeros((grid, grid), dtype=np.uint8)
    for c in present:
        if c >= num_classes:
            continue
        frac = pool_fraction(labels == c, grid)
        better = frac > best
        out[better] = c
        best = np.maximum(best, frac)
    return out


def upsample_grid(grid_values: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour upsampling of a (g, g) grid to (height, width), cell-aligned."""
    g_h, g_w = grid_values.shape
    rows = np.minimum((np.arange(height) * g_h) // height, g_h - 1)
    cols = np.minimum((np.arange(width) * g_w) // width, g_w - 1)
    return grid_values[rows][:, cols]


def rle(values: np.ndarray) -> list[tuple[int, int]]:
    """Run-length pairs ``(value, length)`` of a flattened array in raster order."""
    return [(v, e - s) for v, s, e in runs(np.asarray(values).reshape(-1))]


def unrle(pairs: list[tuple[int, int]], size: int, fill: int = 0) -> np.ndarray:
    """Inverse of `rle`; runs past ``size`` are cut, a short result is padded with ``fill``."""
    out = np.full(size, fill, dtype=np.int64)
    pos = 0
    for value, length in pairs:
        if pos >= size:
            break
        out[pos:pos + length] = value
        pos += length
    return out
