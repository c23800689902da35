"""The explorer's pictures: frames with outlines or heatmaps, at two fixed sizes, as JPEG.

Every picture is written once, at ``VIEW`` (detail views) or ``THUMB`` (lists) pixels, so the
browser never scales large images and a list of thousands of samples stays light. Colours
and outlines are the report figures' (`avu.reproduce.figures`), so a picture means the same
thing in both places.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from avu.data import media
from avu.reproduce.figures import GT_OUTLINE, HEATMAP_ALPHA, PRED_OUTLINE, draw_label_outlines, draw_outline

VIEW = 224
THUMB = 96
STRIP_CELL = 64
JPEG_QUALITY = 88


def frame(path: Path | None, size: int = VIEW) -> np.ndarray:
    """(size, size, 3) uint8; None (an official padding frame) is black."""
    if path is None:
        return np.zeros((size, size, 3), np.uint8)
    return media.read_frame(path, size).copy()


def fit(array: np.ndarray, size: int) -> np.ndarray:
    """A mask or label map at size x size (nearest: labels stay labels)."""
    if array.shape[:2] == (size, size):
        return array
    img = Image.fromarray(np.asarray(array, dtype=np.uint8))
    return np.asarray(img.resize((size, size), Image.NEAREST))


def binary_overlay(rgb: np.ndarray, gt: np.ndarray | None, pred: np.ndarray | None) -> np.ndarray:
    """GT outline (lime) and predicted outline (magenta) over a frame."""
    size = rgb.shape[0]
    if gt is not None:
        draw_outline(rgb, fit(gt.astype(np.uint8), size) > 0, GT_OUTLINE)
    if pred is not None:
        draw_outline(rgb, fit(pred.astype(np.uint8), size) > 0, PRED_OUTLINE)
    return rgb


def semantic_overlay(rgb: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each AVSS class outlined in its official palette colour."""
    return draw_label_outlines(rgb, fit(labels, rgb.shape[0]), palette())


@lru_cache(maxsize=1)
def palette() -> np.ndarray:
    from avu.data.annotations.avsbench import AVSS_PALETTE

    return np.asarray(AVSS_PALETTE, dtype=np.uint8)


@lru_cache(maxsize=1)
def _jet() -> np.ndarray:
    from matplotlib import colormaps

    return (colormaps["jet"](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.float32)


def heat_overlay(rgb: np.ndarray, heat: np.ndarray, boxes: list | None = None, box_size: int = 224) -> np.ndarray:
    """A [0, 1] heatmap (jet, alpha ``HEATMAP_ALPHA``) over the frame, GT boxes outlined."""
    size = rgb.shape[0]
    h = np.clip(np.asarray(heat, dtype=np.float32), 0.0, 1.0)
    if h.shape != (size, size):
        h = np.asarray(Image.fromarray(h).resize((size, size), Image.BILINEAR))
    colour = _jet()[np.round(h * 255).astype(np.int64)]
    rgb[:] = np.clip(rgb * (1 - HEATMAP_ALPHA) + colour * HEATMAP_ALPHA, 0, 255).astype(np.uint8)
    if boxes:
        box_mask = np.zeros((size, size), bool)
        scale = size / box_size
        for x0, y0, x1, y1 in boxes:  # pixel bounds at the protocol size, python-slice semantics
            box_mask[int(y0 * scale):int(np.ceil(y1 * scale)), int(x0 * scale):int(np.ceil(x1 * scale))] = True
        draw_outline(rgb, box_mask, GT_OUTLINE)
    return rgb


def strip(frames: list[np.ndarray]) -> np.ndarray:
    """Frames side by side at STRIP_CELL pixels each (one picture per clip for the timelines)."""
    cells = [np.asarray(Image.fromarray(f).resize((STRIP_CELL, STRIP_CELL), Image.BILINEAR)) for f in frames]
    return np.concatenate(cells, axis=1)


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize((THUMB, THUMB), Image.BILINEAR))


def encode(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def write(path: Path, rgb: np.ndarray) -> None:
    """Write a JPEG (inside the site's temporary folder, which is moved into place whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(rgb))
