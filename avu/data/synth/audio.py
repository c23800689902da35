"""Synthesising a scene's soundtrack: one signature per category, gated per segment.

A category's sound is a tone (pitch x timbre) under an amplitude pulse; clutter sounds
are band-limited noise. Each audible object is switched on for its audible segments
(10 ms ramps, no clicks), scaled to its loudness, and mixed over background noise.
"""

from __future__ import annotations

import numpy as np

from avu.data.synth.catalog import Catalog, Category
from avu.data.synth.scene import Scene, SceneObject

RAMP_S = 0.01


def tone(cat: Category, sr: int, phase: float) -> np.ndarray:
    """One second of the category's tone. Every partial is rounded to a whole number of Hz,
    so the second is exactly periodic and a clip's tone is this second tiled (fast)."""
    t = np.arange(sr, dtype=np.float64) / sr
    f0 = cat.pitch
    nyq = sr / 2 * 0.9
    if cat.timbre == "sine":
        partials = [(1.0, 1.0), (2.0, 0.25)]
    elif cat.timbre == "odd":
        partials = [(k, 1.0 / k) for k in (1, 3, 5, 7, 9)]
    elif cat.timbre == "saw":
        partials = [(k, 1.0 / k) for k in range(1, 9)]
    elif cat.timbre == "bell":
        partials = [(1.0, 1.0), (2.76, 0.6), (5.4, 0.35), (8.93, 0.2)]
    elif cat.timbre == "pluck":  # even partials only, decaying within each second (periodic per second)
        partials = [(k, 1.0 / k) for k in (1, 2, 4, 6)]
    else:  # pragma: no cover
        raise ValueError(cat.timbre)
    out = np.zeros(sr)
    for ratio, amp in partials:
        f = round(f0 * ratio)
        if f < nyq:
            out += amp * np.sin(2 * np.pi * f * t + phase * ratio)
    if cat.timbre == "pluck":
        out *= np.exp(-3.0 * t)
    return out


def band_noise(rng: np.random.Generator, n: int, sr: int, centre: float, width_oct: float = 0.5) -> np.ndarray:
    """White noise band-passed around ``centre`` (width in octaves), via the FFT."""
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    with np.errstate(divide="ignore"):
        octaves = np.abs(np.log2(np.maximum(freqs, 1.0) / centre))
    spec *= np.exp(-0.5 * (octaves / (width_oct / 2)) ** 2)
    return np.fft.irfft(spec, n)


def pink_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    spec /= np.sqrt(np.arange(1, len(spec) + 1))
    x = np.fft.irfft(spec, n)
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def gate(flags: np.ndarray, sr: int) -> np.ndarray:
    """Per-sample on/off envelope from per-second flags, with short linear ramps (moving average)."""
    g = np.repeat(flags.astype(np.float64), sr)
    ramp = int(RAMP_S * sr)
    if ramp > 1:
        padded = np.concatenate([np.full(ramp // 2, g[0]), g, np.full(ramp - ramp // 2, g[-1])])
        cs = np.concatenate([[0.0], np.cumsum(padded)])
        g = (cs[ramp:] - cs[:-ramp])[: len(g)] / ramp
    return g


def source(obj: SceneObject, catalog: Catalog, seconds: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    n = seconds * sr
    if obj.category >= 0:
        cat = catalog[obj.category]
        pulse = cat.pulse if obj.pulse is None else obj.pulse
        one = tone(cat, sr, phase=float(rng.uniform(0, 2 * np.pi)))
        if pulse > 0:  # whole-Hz pulse rates keep the second periodic
            one *= (0.5 + 0.5 * np.cos(2 * np.pi * pulse * np.arange(sr) / sr)) ** 2
        sig = np.tile(one, seconds)
    else:
        sig = band_noise(rng, n, sr, obj.clutter_pitch)
    sig /= np.sqrt(np.mean(sig**2)) + 1e-12
    return sig * gate(obj.audible, sr) * obj.loudness


def synthesize(scene: Scene, catalog: Catalog, sr: int, rng: np.random.Generator) -> np.ndarray:
    """The mixed soundtrack (seconds * sr,) float32 in [-1, 1]."""
    n = scene.seconds * sr
    mix = scene.noise_level * pink_noise(rng, n)
    for obj in scene.objects:
        if obj.audible.any():
            mix += source(obj, catalog, scene.seconds, sr, rng)
    # fixed gain (not peak normalisation): loudness stays comparable across clips
    return np.clip(mix * 0.12, -1.0, 1.0).astype(np.float32)
