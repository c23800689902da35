"""One world behind every class list: the mapping table covers every real class, shared
categories look and sound the same in every generated dataset, confusable groups are as defined."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from avu.data import classes as C
from avu.data import world
from avu.data.synth.catalog import catalog_for, world_signatures

LISTS = {
    "ave": C.AVE_CATEGORIES,
    "llp": C.LLP_CLASSES,
    "avs_s4": C.S4_CATEGORIES,
    "avss": C.AVSS_CLASSES[1:],
    "avqa": C.AVQA_INSTRUMENTS + ("voiceover",),
}


@pytest.mark.parametrize("bench", sorted(LISTS))
def test_every_class_of_the_embedded_lists_has_exactly_one_row(bench):
    assert set(world.class_names(bench)) == set(LISTS[bench])
    cats = [world.category_of(bench, c) for c in LISTS[bench]]
    assert len(set(cats)) == len(cats), "two classes of a scored benchmark share a category"


def test_every_real_vggss_class_has_a_row(datasets_dir):
    names = {e["class"] for e in json.loads((datasets_dir / "vggss" / "vggss.json").read_text())}
    assert set(world.class_names("vggss")) == names


def test_the_table_rejects_ambiguous_rows(monkeypatch):
    rows = "benchmark\tclass\tcategory\nave\tBark\tdog\nave\tCat\tdog\n"

    class Fake:
        def joinpath(self, name):
            return self

        def read_text(self, encoding):
            return rows

    monkeypatch.setattr(world.resources, "files", lambda pkg: Fake())
    world.table.cache_clear()
    try:
        with pytest.raises(ValueError, match="both map to 'dog'"):
            world.table()
    finally:
        world.table.cache_clear()


def test_shared_categories_are_the_same_thing_in_every_dataset():
    benches = [*LISTS, "vggss"]
    seen: dict[str, list[tuple]] = defaultdict(list)
    for b in benches:
        names = tuple(world.class_names(b)) if b == "vggss" else tuple(LISTS[b])
        for entry in catalog_for(b, names).categories:
            seen[entry.world].append((b, entry.shape, entry.colour, entry.texture, entry.size, entry.sound_key))
    shared = {c: v for c, v in seen.items() if len({x[0] for x in v}) > 1}
    assert {"dog", "cat", "violin", "helicopter", "man", "guitar"} <= set(shared)
    for cat, entries in shared.items():
        assert len({x[1:] for x in entries}) == 1, f"{cat} differs between {sorted({x[0] for x in entries})}"


def test_confusable_groups_and_distinct_core_signatures():
    sigs = world_signatures()
    core = {c for b, _, c in world.table() if b != "vggss"}
    looks, sounds = defaultdict(list), defaultdict(list)
    for s in sigs.values():
        if s.look_group:
            looks[s.look_group].append(s)
        if s.sound_group:
            sounds[s.sound_group].append(s)
    assert len(looks) >= 8 and len(sounds) >= 8
    for members in looks.values():  # same look but texture, different sounds
        assert len({(m.shape, m.colour, m.size) for m in members}) == 1
        assert len({m.texture for m in members}) == len(members)
        assert len({(m.pitch, m.timbre, m.pulse) for m in members}) == len(members)
    for members in sounds.values():  # same sound, different looks
        assert len({(m.pitch, m.timbre, m.pulse) for m in members}) == 1
        assert len({(m.shape, m.colour) for m in members}) == len(members)
    # outside their groups, core categories differ in (shape, colour) and in (pitch, timbre)
    look_key = {s.name: s.look_group or s.name for s in sigs.values()}
    sound_key = {s.name: s.sound_group or s.name for s in sigs.values()}
    by_look = {(sigs[c].shape, sigs[c].colour): look_key[c] for c in core}
    assert len(by_look) == len({look_key[c] for c in core})
    by_sound = {(sigs[c].pitch, sigs[c].timbre): sound_key[c] for c in core}
    assert len(by_sound) == len({sound_key[c] for c in core})
