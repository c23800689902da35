"""What every writer shares: the job description, seeded ids, media output, placement."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avu.data import media
from avu.data.synth.audio import synthesize
from avu.data.synth.catalog import Catalog
from avu.data.synth.scene import Scene, SceneObject, trajectory

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Knobs:
    """Difficulty knobs (docs/synthetic.md explains each)."""

    noise_level: float = 0.05  # background noise RMS relative to a source at loudness 1
    motion: float = 0.12  # how far an object moves over the clip (frame fractions)
    p_distractor: float = 0.6  # chance of each silent visible distractor
    p_offscreen: float = 0.35  # chance of an off-screen sound of another class
    p_clutter: float = 0.5  # chance of a clutter shape / clutter noise that belongs to no class


@dataclass(frozen=True)
class Job:
    """One clip to make: which benchmark, split, index, and where."""

    benchmark: str
    split: str
    index: int
    n_in_split: int
    seed: int
    root: str
    frame_size: int
    sample_rate: int
    knobs: Knobs

    @property
    def rng(self) -> np.random.Generator:
        return np.random.default_rng(
            [self.seed, _stable(self.benchmark), SPLITS.index(self.split), self.index]
        )

    def permutation(self, n: int) -> np.ndarray:
        """A seeded permutation of n classes, shared by all clips of this split (class balance)."""
        return np.random.default_rng([self.seed, _stable(self.benchmark), SPLITS.index(self.split), 7]).permutation(n)


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def youtube_like_id(*parts: object) -> str:
    """An 11-character id in the YouTube alphabet, derived from ``parts`` (seeded, stable)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:11]


def write_clip_media(job: Job, scene: Scene, catalog: Catalog, frame_paths: list[Path], wav_path: Path,
                     frames: list[int] | None = None):
    """Render + synthesise ``scene``; write the frames and the wav; return the masks."""
    from avu.data.synth.render import render

    imgs, masks = render(scene, catalog, job.frame_size, frames)
    for img, path in zip(imgs, frame_paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        media.write_image(path, img)
    audio_rng = np.random.default_rng([int(job.rng.integers(2**62)), 1])  # independent of the scene draws
    audio = synthesize(scene, catalog, job.sample_rate, audio_rng)
    wav_path.parent.mkdir(parents=True, exist_ok=True)
    media.write_wav(wav_path, audio, job.sample_rate)
    return masks


def slot_ranges(k: int) -> list[tuple[float, float]]:
    """k side-by-side horizontal slots: objects in different slots never hide each other fully."""
    return [(i / k, (i + 1) / k) for i in range(k)]


def place(rng: np.random.Generator, category: int, visible, audible, slot: tuple[float, float], knobs: Knobs,
          catalog: Catalog | None, scale: float = 1.0, **kw) -> SceneObject:
    """An object in a horizontal slot; ``scale`` enlarges the catalog size (segmentation scenes)."""
    radius = catalog[category].size if (catalog is not None and category >= 0) else float(rng.uniform(0.08, 0.13))
    radius *= float(rng.uniform(0.9, 1.1)) * scale
    radius = min(radius, max(0.07, 0.6 * (slot[1] - slot[0])))  # crowded scenes: smaller objects
    start, end = trajectory(rng, radius, knobs.motion, x_range=slot, y_range=(0.15, 0.85))
    return SceneObject(category, np.asarray(visible, bool), np.asarray(audible, bool), start, end, radius, **kw)


def clutter(rng: np.random.Generator, seconds: int, slot, knobs: Knobs) -> SceneObject:
    """A shape in a muted colour that is no class (never sounds)."""
    from avu.data.synth.scene import random_flags

    return place(rng, -1, random_flags(rng, seconds, 0.6), np.zeros(seconds, bool), slot, knobs, None,
                 clutter_look=(int(rng.integers(8)), int(rng.integers(3))))


def clutter_sound(rng: np.random.Generator, seconds: int) -> SceneObject:
    """Band-limited noise that belongs to no class (never visible)."""
    from avu.data.synth.scene import random_flags

    return SceneObject(-1, np.zeros(seconds, bool), random_flags(rng, seconds, 0.4), (0.5, 0.5), (0.5, 0.5), 0.1,
                       loudness=float(rng.uniform(0.3, 0.7)), clutter_pitch=float(rng.uniform(300, 5000)))


def pick_others(rng: np.random.Generator, catalog: Catalog, exclude: list[int], k: int) -> list[int]:
    """k distinct classes not in ``exclude`` and not sound-alike of any class in the scene."""
    chosen: list[int] = []
    if k <= 0:
        return chosen
    for c in rng.permutation(len(catalog)):
        c = int(c)
        taken = exclude + chosen
        if c in taken or any(catalog.conflicts(c, o) for o in taken):
            continue
        chosen.append(c)
        if len(chosen) == k:
            break
    return chosen


def tsv(rows: list[list[object]], header: list[str]) -> str:
    return "\n".join("\t".join(map(str, r)) for r in [header, *rows]) + "\n"
