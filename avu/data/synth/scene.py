"""The scene model: objects that appear, move, disappear and sound on and off.

A scene lasts ``seconds`` one-second segments. Each object has a category (an index
into the benchmark's catalog, or -1 for clutter that belongs to no class), a straight
trajectory, a radius, and two independent per-segment flags: ``visible`` and
``audible``. An audible object that is never visible is an off-screen sound; a
visible object that is never audible is a silent distractor. Frame ``t`` shows the
scene at time ``t + 0.5`` s (1 fps, the middle of segment t).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SceneObject:
    category: int
    visible: np.ndarray  # bool (T,)
    audible: np.ndarray  # bool (T,)
    start: tuple[float, float]  # centre (x, y) in frame fractions at t = 0
    end: tuple[float, float]  # centre at t = T
    radius: float  # fraction of the frame side
    loudness: float = 1.0  # linear gain of its sound
    pulse: float | None = None  # overrides the category's pulse rate (Hz) when set
    clutter_look: tuple[int, int] = (0, 0)  # (shape index, clutter colour index) for category -1
    clutter_pitch: float = 0.0  # band centre of a clutter noise sound
    aspect: float = 1.0  # height / width of the drawn shape

    def centre(self, t: int, seconds: int) -> tuple[float, float]:
        a = (t + 0.5) / seconds
        return (self.start[0] + a * (self.end[0] - self.start[0]), self.start[1] + a * (self.end[1] - self.start[1]))

    @property
    def on_screen(self) -> bool:
        return bool(self.visible.any())


@dataclass
class Scene:
    seconds: int
    objects: list[SceneObject] = field(default_factory=list)
    background: str = "plain"  # plain | indoor | outdoor
    bg_seed: int = 0
    noise_level: float = 0.02  # RMS of the background noise relative to a source at loudness 1


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True as (onset, offset) with offset exclusive."""
    out, start = [], None
    for t, f in enumerate(list(flags) + [False]):
        if f and start is None:
            start = t
        elif not f and start is not None:
            out.append((start, t))
            start = None
    return out


def random_run(rng: np.random.Generator, seconds: int, min_len: int = 1, max_len: int | None = None) -> np.ndarray:
    """A flag vector that is True on one random contiguous run."""
    max_len = seconds if max_len is None else max_len
    length = int(rng.integers(min_len, max_len + 1))
    onset = int(rng.integers(0, seconds - length + 1))
    flags = np.zeros(seconds, bool)
    flags[onset : onset + length] = True
    return flags


def random_flags(rng: np.random.Generator, seconds: int, p_on: float, max_runs: int = 2) -> np.ndarray:
    """Up to ``max_runs`` random runs; True with overall rate around ``p_on``; never empty."""
    flags = np.zeros(seconds, bool)
    for _ in range(int(rng.integers(1, max_runs + 1))):
        length = max(1, round(rng.uniform(0.5, 1.5) * p_on * seconds / max_runs))
        length = min(length, seconds)
        onset = int(rng.integers(0, seconds - length + 1))
        flags[onset : onset + length] = True
    return flags


def trajectory(rng: np.random.Generator, radius: float, motion: float, x_range=(0.0, 1.0), y_range=(0.0, 1.0)):
    """Start and end centres keeping the object inside the frame (x/y ranges restrict where)."""
    lo_x, hi_x = max(radius, x_range[0]), min(1 - radius, x_range[1])
    lo_y, hi_y = max(radius, y_range[0]), min(1 - radius, y_range[1])
    if lo_x > hi_x:  # slot narrower than the object: centre it in the slot
        lo_x = hi_x = float(np.clip((x_range[0] + x_range[1]) / 2, radius, 1 - radius))
    if lo_y > hi_y:
        lo_y = hi_y = 0.5
    sx, sy = rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)
    ex = float(np.clip(sx + rng.uniform(-motion, motion), lo_x, hi_x))
    ey = float(np.clip(sy + rng.uniform(-motion, motion), lo_y, hi_y))
    return (float(sx), float(sy)), (ex, ey)
