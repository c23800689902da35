"""Rendering a scene's frames and the exact silhouette of every object in them.

Objects are drawn back to front in list order; an object's mask is what remains of it
after the objects in front are drawn, so masks and boxes are exact ground truth.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from avu.data.synth.catalog import CLUTTER_COLOURS, SHAPES, Catalog
from avu.data.synth.scene import Scene


def background(scene: Scene, size: int) -> np.ndarray:
    """A smooth, muted background (float32 HxWx3 in 0..255), seeded by ``scene.bg_seed``."""
    rng = np.random.default_rng(scene.bg_seed)
    y = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    if scene.background == "indoor":  # warm wall, wooden floor
        top = np.array([150, 120, 90], np.float32) + rng.uniform(-20, 20, 3)
        bottom = np.array([100, 65, 35], np.float32) + rng.uniform(-15, 15, 3)
        split = 0.68
    elif scene.background == "outdoor":  # sky above grass
        top = np.array([110, 160, 215], np.float32) + rng.uniform(-20, 20, 3)
        bottom = np.array([55, 120, 45], np.float32) + rng.uniform(-15, 15, 3)
        split = 0.6
    else:
        top = rng.uniform(25, 110, 3).astype(np.float32)
        bottom = rng.uniform(25, 110, 3).astype(np.float32)
        split = None
    if split is None:
        img = top + (bottom - top) * y
    else:
        img = np.where(y < split, top + 0.15 * (bottom - top) * y, bottom + 10 * (y - split))
    img = np.broadcast_to(img, (size, size, 3)).astype(np.float32)
    # low-frequency blotches: texture that compresses well and is not an object
    coarse = rng.uniform(-18, 18, (6, 6)).astype(np.float32)
    blot = np.asarray(Image.fromarray(coarse, mode="F").resize((size, size), Image.BILINEAR))
    return np.clip(img + blot[..., None], 0, 255)


def shape_mask(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inside-test of a unit shape on local coordinates u, v (radius 1)."""
    au, av = np.abs(u), np.abs(v)
    if shape == "circle":
        return u * u + v * v <= 1.0
    if shape == "square":
        return np.maximum(au, av) <= 0.85
    if shape == "triangle":
        return (v <= 0.8) & (au <= (v + 0.95) * 0.55)
    if shape == "diamond":
        return au + av <= 1.0
    if shape == "ring":
        r2 = u * u + v * v
        return (r2 <= 1.0) & (r2 >= 0.3)
    if shape == "cross":
        return ((au <= 0.34) & (av <= 0.95)) | ((av <= 0.34) & (au <= 0.95))
    if shape == "flower":
        r = np.sqrt(u * u + v * v)
        theta = np.arctan2(v, u)
        return r <= 0.68 + 0.32 * np.cos(5 * theta)
    if shape == "hexagon":
        return (av <= 0.866) & (au + av * 0.577 <= 1.0)
    if shape == "star":  # five sharp points
        r = np.sqrt(u * u + v * v)
        theta = np.arctan2(v, u)
        return r <= 0.45 + 0.55 * np.abs(np.cos(2.5 * theta)) ** 3
    if shape == "crescent":  # a disc with a disc cut out of its right side
        return (u * u + v * v <= 1.0) & ((u - 0.45) ** 2 + v * v > 0.55)
    raise ValueError(shape)


def texture_shade(texture: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Brightness factor of a texture at local coordinates (1 = full colour)."""
    if texture == "solid":
        return np.ones_like(u)
    if texture == "stripes":
        return np.where(np.sin(u * 9.0) > 0, 1.0, 0.45)
    if texture == "dots":
        return np.where((np.sin(u * 8.0) * np.sin(v * 8.0)) > 0.45, 0.35, 1.0)
    if texture == "checker":
        return np.where((np.floor(u * 2.5) + np.floor(v * 2.5)) % 2 == 0, 1.0, 0.5)
    raise ValueError(texture)


def render(scene: Scene, catalog: Catalog, size: int = 224, frames: list[int] | None = None):
    """Frames (F, size, size, 3) uint8 and masks (F, n_objects, size, size) bool.

    ``frames`` picks which segments to render (default: all ``scene.seconds``).
    """
    frames = list(range(scene.seconds)) if frames is None else frames
    bg = background(scene, size)
    n = len(scene.objects)
    out = np.empty((len(frames), size, size, 3), np.uint8)
    masks = np.zeros((len(frames), n, size, size), bool)
    for fi, t in enumerate(frames):
        img = bg.copy()
        for oi, obj in enumerate(scene.objects):
            if not obj.visible[t]:
                continue
            if obj.category >= 0:
                cat = catalog[obj.category]
                shape, colour, texture = cat.shape, cat.colour, cat.texture
            else:
                shape, colour, texture = SHAPES[obj.clutter_look[0]], CLUTTER_COLOURS[obj.clutter_look[1]], "solid"
            cx, cy = obj.centre(t, scene.seconds)
            r = obj.radius * size
            ry = r * obj.aspect
            x0, x1 = max(0, int(np.floor(cx * size - r)) - 1), min(size, int(np.ceil(cx * size + r)) + 2)
            y0, y1 = max(0, int(np.floor(cy * size - ry)) - 1), min(size, int(np.ceil(cy * size + ry)) + 2)
            if x0 >= x1 or y0 >= y1:
                continue
            xs = (np.arange(x0, x1, dtype=np.float32) + 0.5 - cx * size) / r
            ys = (np.arange(y0, y1, dtype=np.float32) + 0.5 - cy * size) / ry
            u, v = np.meshgrid(xs, ys)
            inside = shape_mask(shape, u, v)
            shade = texture_shade(texture, u, v)
            pix = np.asarray(colour, np.float32)[None, None, :] * shade[..., None]
            region = img[y0:y1, x0:x1]
            region[inside] = pix[inside]
            masks[fi, :oi, y0:y1, x0:x1] &= ~inside  # occludes what is behind
            masks[fi, oi, y0:y1, x0:x1] = inside
        out[fi] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return out, masks


def bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Pixel bounds (x0, y0, x1, y1), x1/y1 exclusive, of a boolean mask; None if empty."""
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    if len(xs) == 0:
        return None
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1
