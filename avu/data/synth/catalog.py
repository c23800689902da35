"""The catalog of sounding categories: what each world category looks like and sounds like.

There is one world (avu.data.world): every benchmark's class list maps onto its categories,
and a category has one appearance and one sound in every generated dataset, so "dog" in AVE
looks and sounds like "dog" in AVSS. Signatures are a pure function of the world tables
(they do not depend on the suite seed: different seeds give different clips of the same
world). Appearances are (shape, colour) pairs plus texture and size; sounds are (pitch,
timbre, pulse) triples. The confusable groups are defined once, in
``world_categories.tsv``, and make the tasks need both modalities:

* a look group shares shape, colour and size and differs only in texture: vision alone
  hardly tells its members apart, their sounds differ;
* a sound group shares the whole sound signature and looks different: audio alone cannot
  tell them apart. Scenes never hold two members of a sound group at once (that would make
  the ground truth unknowable from the clip).

Categories used by a benchmark whose labels are scored ("core") get distinct (shape, colour)
and distinct (pitch, timbre) pairs; the VGG-SS-only categories take what remains.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

SHAPES = ("circle", "square", "triangle", "diamond", "ring", "cross", "flower", "hexagon", "star", "crescent")
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
    (160, 240, 60),  # lime
    (220, 40, 220),  # magenta
    (0, 140, 130),  # teal
)
TEXTURES = ("solid", "stripes", "dots", "checker")
TIMBRES = ("sine", "odd", "saw", "bell", "pluck")
#: pitch grid: 18 fundamentals, about 2.8 semitones apart, 150 Hz .. 2.4 kHz
PITCHES = tuple(float(150.0 * 2 ** (i * 48 / 17 / 12)) for i in range(18))
PULSES = (0.0, 2.0, 4.0, 6.0)  # amplitude-modulation rate in Hz (0 = steady)


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
    world: str = ""  # the world category it is drawn as (avu.data.world)

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


WORLD_CATEGORIES = "world_categories.tsv"


@dataclass(frozen=True)
class Signature:
    """The look and sound of one world category."""

    name: str
    shape: str
    colour: tuple[int, int, int]
    texture: str
    size: float
    pitch: float
    timbre: str
    pulse: float
    look_group: str
    sound_group: str


def _groups() -> dict[str, tuple[str, str]]:
    """category -> (look group, sound group) from ``world_categories.tsv`` ('' = none)."""
    import csv
    from importlib import resources

    from avu.data import world

    text = resources.files("avu.data.synth").joinpath(WORLD_CATEGORIES).read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines(), delimiter="\t"))
    if rows[0] != ["category", "look_group", "sound_group"]:
        raise ValueError(f"{WORLD_CATEGORIES}: header must be category, look_group, sound_group")
    out = {r[0]: (r[1], r[2]) for r in rows[1:]}
    missing = [c for c in world.categories() if c not in out]
    extra = [c for c in out if c not in world.categories()]
    if missing or extra:
        raise ValueError(f"{WORLD_CATEGORIES}: categories missing {missing[:5]}, unknown {extra[:5]}")
    return out


@cache
def world_signatures() -> dict[str, Signature]:
    """Signature of every world category (deterministic: seeded by the word "world")."""
    from avu.data import world

    groups = _groups()
    core = {c for b, _, c in world.table() if b not in world.MANY_TO_ONE}
    names = list(world.categories())
    # a look (sound) unit is a group or an ungrouped category; units holding a core category come first
    def units(kind: int) -> list[list[str]]:
        by_key: dict[str, list[str]] = {}
        for c in names:
            by_key.setdefault(groups[c][kind] or f"={c}", []).append(c)
        return sorted(by_key.values(), key=lambda u: not any(c in core for c in u))

    rng = np.random.default_rng(hash_name("world") % 2**63)
    looks = [(s, c) for s in range(len(SHAPES)) for c in range(len(COLOURS))]
    look_units, sound_units = units(0), units(1)
    if len(look_units) > len(looks):
        raise ValueError(f"{len(look_units)} looks needed, {len(looks)} (shape, colour) pairs exist")
    look_order = rng.permutation(len(looks))
    look_of: dict[str, tuple[int, int, str, float]] = {}
    for k, unit in enumerate(look_units):
        s, col = looks[look_order[k]]
        size = float(rng.uniform(0.09, 0.15))
        textures = rng.permutation(len(TEXTURES))
        for j, c in enumerate(unit):  # group members differ in texture only
            look_of[c] = (s, col, TEXTURES[int(textures[j % len(TEXTURES)])], size)
    pairs = [(p, t) for p in range(len(PITCHES)) for t in range(len(TIMBRES))]
    pair_order = list(rng.permutation(len(pairs)))
    n_core = sum(any(c in core for c in u) for u in sound_units)
    if n_core > len(pairs):
        raise ValueError(f"{n_core} core sounds need distinct (pitch, timbre) pairs; {len(pairs)} exist")
    # core units: distinct (pitch, timbre) pairs; the rest cycle through the pairs with other pulses
    triples = [(*pairs[i], int(rng.integers(len(PULSES)))) for i in pair_order]
    rest = [(*pairs[i], q) for q in range(len(PULSES)) for i in pair_order]
    rest = [x for x in rest if x not in triples[:n_core]]
    sound_of: dict[str, tuple[int, int, int]] = {}
    for k, unit in enumerate(sound_units):
        triple = triples[k] if k < n_core else rest[k - n_core]
        for c in unit:
            sound_of[c] = triple
    out = {}
    for c in names:
        s, col, tex, size = look_of[c]
        p, t, q = sound_of[c]
        out[c] = Signature(c, SHAPES[s], COLOURS[col], tex, size, PITCHES[p], TIMBRES[t], PULSES[q], *groups[c])
    return out


@cache
def catalog_for(benchmark: str, class_names: tuple[str, ...]) -> Catalog:
    """The world seen through one benchmark's class list: entry i is class i, drawn as its category.

    ``look_alike`` / ``sound_alike`` point to another class of this list in the same look (sound)
    group but of another category (-1: none), so a look-alike never also sounds the same.
    """
    from avu.data import world

    sigs = world_signatures()
    cats = [world.category_of(benchmark, n) for n in class_names]

    def partner(i: int, kind: str) -> int:
        group = getattr(sigs[cats[i]], kind)
        if not group:
            return -1
        return next((j for j, c in enumerate(cats) if c != cats[i] and getattr(sigs[c], kind) == group), -1)

    entries = []
    for i, (name, c) in enumerate(zip(class_names, cats)):
        g = sigs[c]
        entries.append(Category(index=i, name=name, shape=g.shape, colour=g.colour, texture=g.texture, size=g.size,
                                pitch=g.pitch, timbre=g.timbre, pulse=g.pulse, look_alike=partner(i, "look_group"),
                                sound_alike=partner(i, "sound_group"), world=c))
    return Catalog(benchmark, tuple(entries))


def hash_name(name: str) -> int:
    """A stable (process-independent) integer from a string; Python's hash() is salted."""
    import hashlib

    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


#: clutter: shapes drawn in muted colours that belong to no class (visual distractors)
CLUTTER_COLOURS = ((120, 110, 100), (95, 105, 120), (130, 120, 80))
