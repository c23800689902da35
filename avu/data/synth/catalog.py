"""The catalog of sounding categories: what each looks like and what it sounds like.

Each benchmark's class list gets its own catalog, built deterministically from the
list (it does not depend on the suite seed: different seeds give different clips of
the same world). Appearances are (shape, colour) pairs plus texture and size; sounds
are (pitch, timbre, pulse) triples. Two deliberate kinds of confusable pairs make the
tasks need both modalities:

* look-alikes share shape and colour and differ only in texture: vision alone hardly
  tells them apart, their sounds differ;
* sound-alikes share the whole sound signature and look different: audio alone cannot
  tell them apart. Scenes never hold two sound-alikes at once (that would make the
  ground truth unknowable from the clip).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

SHAPES = ("circle", "square", "triangle", "diamond", "ring", "cross", "flower", "hexagon")
COLOURS = (
    (225, 45, 40),  # red
    (245, 145, 25),  # orange
    (240, 220, 50),  # yellow
    (50, 185, 65),  # green
    (40, 200, 210),  # cyan
    (45, 85, 230),  # blue
    (150, 65, 210),  # purple
    (240, 110, 190),  # pink
    (245, 245, 245),  # white
)
TEXTURES = ("solid", "stripes", "dots", "checker")
TIMBRES = ("sine", "odd", "saw", "bell")
#: pitch grid: 18 fundamentals, about 2.8 semitones apart, 150 Hz .. 2.4 kHz
PITCHES = tuple(float(150.0 * 2 ** (i * 48 / 17 / 12)) for i in range(18))
PULSES = (0.0, 2.0, 4.0)  # amplitude-modulation rate in Hz (0 = steady)


@dataclass(frozen=True)
class Category:
    index: int
    name: str
    shape: str
    colour: tuple[int, int, int]
    texture: str
    size: float  # radius as a fraction of the frame side
    pitch: float  # fundamental frequency (Hz); for "noise" the band centre
    timbre: str
    pulse: float
    look_alike: int = -1  # index of the category it is a look-alike of (-1: none)
    sound_alike: int = -1  # index of the category it is a sound-alike of (-1: none)

    @property
    def sound_key(self) -> tuple:
        return (self.pitch, self.timbre, self.pulse)


@dataclass(frozen=True)
class Catalog:
    name: str
    categories: tuple[Category, ...]

    def __len__(self) -> int:
        return len(self.categories)

    def __getitem__(self, i: int) -> Category:
        return self.categories[i]

    def conflicts(self, i: int, j: int) -> bool:
        """True when categories i and j must not share a scene (identical sounds)."""
        return i != j and self.categories[i].sound_key == self.categories[j].sound_key


def build_catalog(name: str, class_names: tuple[str, ...] | list[str], confusable_fraction: float = 0.25) -> Catalog:
    """A catalog for ``class_names``; ``confusable_fraction`` of the classes join a confusable pair.

    Appearance (shape x colour) and sound (pitch x timbre) combinations are assigned by a
    fixed permutation, so every class is distinct unless made confusable on purpose.
    """
    n = len(class_names)
    rng = np.random.default_rng(abs(hash_name(name)))
    looks = [(s, c) for s in range(len(SHAPES)) for c in range(len(COLOURS))]
    sounds = [(p, t) for p in range(len(PITCHES)) for t in range(len(TIMBRES))]
    if n > min(len(looks), len(sounds)):
        raise ValueError(f"catalog {name}: {n} classes exceed the {min(len(looks), len(sounds))} distinct signatures")
    look_order = rng.permutation(len(looks))
    # spread pitches: consecutive classes get pitches far apart
    sound_order = rng.permutation(len(sounds))
    cats = []
    for i, cname in enumerate(class_names):
        s, c = looks[look_order[i]]
        p, t = sounds[sound_order[i]]
        cats.append(
            Category(
                index=i,
                name=cname,
                shape=SHAPES[s],
                colour=COLOURS[c],
                texture=TEXTURES[int(rng.integers(len(TEXTURES)))],
                size=float(rng.uniform(0.09, 0.15)),
                pitch=PITCHES[p],
                timbre=TIMBRES[t],
                pulse=PULSES[int(rng.integers(len(PULSES)))],
            )
        )
    # confusable pairs over disjoint classes: half look-alikes, half sound-alikes
    n_pairs = round(confusable_fraction * n / 2)
    chosen = rng.permutation(n)[: 2 * n_pairs]
    for k in range(n_pairs):
        a, b = int(chosen[2 * k]), int(chosen[2 * k + 1])
        if k % 2 == 0:  # b looks like a, with another texture
            other = [t for t in TEXTURES if t != cats[a].texture]
            cats[b] = replace(cats[b], shape=cats[a].shape, colour=cats[a].colour,
                              texture=other[k % len(other)], size=cats[a].size, look_alike=a)
            cats[a] = replace(cats[a], look_alike=b)
        else:  # b sounds exactly like a
            cats[b] = replace(cats[b], pitch=cats[a].pitch, timbre=cats[a].timbre, pulse=cats[a].pulse, sound_alike=a)
            cats[a] = replace(cats[a], sound_alike=b)
    return Catalog(name, tuple(cats))


def hash_name(name: str) -> int:
    """A stable (process-independent) integer from a string; Python's hash() is salted."""
    import hashlib

    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


#: clutter: shapes drawn in muted colours that belong to no class (visual distractors)
CLUTTER_COLOURS = ((120, 110, 100), (95, 105, 120), (130, 120, 80))
