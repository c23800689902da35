"""AVE: one audio-visual event per clip, written as Annotations.txt + *_order.h5 + split lists.

Scene: the event's object is visible AND audible exactly on [StartTime, EndTime); outside
it the same object is often visible but silent, or audible but off-screen (background
segments that only both modalities tell apart); a quarter of the events fill the clip. The
world's sound groups (helicopter/airplane, bus/truck, race car/motorcycle, cat/rodents, church
bell/clock) make the class of a third of the events a matter of the picture. Distractors: silent visible objects of
other classes (look-alikes included), off-screen sounds of classes never visible, clutter.

Layout (official names; media mimic the extracted-frames convention):
  ave/Annotations.txt                 Category&VideoID&Quality&StartTime&EndTime, no header
  ave/{train,val,test}_order.h5       dataset "order": int64 row indices into Annotations.txt
  ave/dataset_zip/Annotations.txt     same rows with the header line
  ave/dataset_zip/{train,val,test}Set.txt, categories.txt
  ave/frames/<VideoID>/000001.jpg ... 000010.jpg     (1 fps, frame t = time t + 0.5 s)
  ave/audio/<VideoID>.wav                             (10 s, 16 kHz mono)
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from avu import fileio
from avu.data.classes import AVE_CATEGORIES
from avu.data.synth.catalog import catalog_for
from avu.data.synth.scene import Scene, random_flags
from avu.data.synth.writers.common import (
    SPLITS,
    Job,
    clutter,
    clutter_sound,
    pick_others,
    place,
    slot_ranges,
    write_clip_media,
    youtube_like_id,
)

BENCHMARKS = ("ave",)
SECONDS = 10


def catalog():
    return catalog_for("ave", AVE_CATEGORIES)


def frame_paths(root: Path, vid: str, n: int = SECONDS) -> list[Path]:
    return [root / "ave" / "frames" / vid / f"{k:06d}.jpg" for k in range(1, n + 1)]


def wav_path(root: Path, vid: str) -> Path:
    return root / "ave" / "audio" / f"{vid}.wav"


def scene_for(job: Job) -> tuple[Scene, dict]:
    rng, knobs, cat = job.rng, job.knobs, catalog()
    c = int(job.permutation(len(cat))[job.index % len(cat)])
    if rng.random() < 0.25:
        start, end = 0, SECONDS
    else:
        length = int(rng.integers(2, SECONDS))
        start = int(rng.integers(0, SECONDS - length + 1))
        end = start + length
    event = np.zeros(SECONDS, bool)
    event[start:end] = True
    vis, aud = event.copy(), event.copy()
    # outside the event one modality at most: the object seen but silent, or heard off screen.
    # Both are background, so neither modality alone finds the event's extent.
    for t in np.flatnonzero(~event):
        r = rng.random()
        if r < 0.35:
            vis[t] = True
        elif r < 0.7:
            aud[t] = True
    n_vis = int(rng.random() < knobs.p_distractor) + int(rng.random() < knobs.p_distractor / 2)
    n_off = int(rng.random() < knobs.p_offscreen)
    others = pick_others(rng, cat, [c], n_vis + n_off)
    has_clutter = rng.random() < knobs.p_clutter
    slots = slot_ranges(1 + n_vis + int(has_clutter))
    order = rng.permutation(len(slots))
    objs = [place(rng, c, vis, aud, slots[order[0]], knobs, cat, loudness=float(rng.uniform(0.8, 1.2)))]
    for k, d in enumerate(others[:n_vis]):
        objs.append(place(rng, d, random_flags(rng, SECONDS, 0.6), np.zeros(SECONDS, bool), slots[order[1 + k]], knobs, cat))
    for d in others[n_vis:]:
        objs.append(place(rng, d, np.zeros(SECONDS, bool), random_flags(rng, SECONDS, 0.5), (0, 1), knobs, cat,
                          loudness=float(rng.uniform(0.5, 1.0))))
    if has_clutter:
        objs.append(clutter(rng, SECONDS, slots[order[-1]], knobs))
    if rng.random() < knobs.p_clutter / 2:
        objs.append(clutter_sound(rng, SECONDS))
    rng.shuffle(objs)  # depth order
    scene = Scene(SECONDS, objs, "plain", int(rng.integers(2**31)), knobs.noise_level)
    return scene, {"class": c, "start": start, "end": end}


def clip(job: Job) -> dict:
    root = Path(job.root)
    vid = youtube_like_id(job.seed, job.benchmark, job.split, job.index)
    scene, info = scene_for(job)
    write_clip_media(job, scene, catalog(), frame_paths(root, vid), wav_path(root, vid))
    return {"vid": vid, **info}


def row(rec: dict) -> str:
    return f"{AVE_CATEGORIES[rec['class']]}&{rec['vid']}&good&{rec['start']}&{rec['end']}"


def finish(root: Path, records: dict[str, dict[str, list[dict]]]) -> None:
    recs = records["ave"]
    # like the official file: rows grouped by category, so split orders are non-trivial
    everything = [(r["class"], SPLITS.index(s), i, r) for s in SPLITS for i, r in enumerate(recs[s])]
    everything.sort(key=lambda x: x[:3])
    rows = [row(x[3]) for x in everything]
    position = {(x[1], x[2]): n for n, x in enumerate(everything)}
    base = root / "ave"
    fileio.write_text(base / "Annotations.txt", "\n".join(rows) + "\n")
    zipdir = base / "dataset_zip"
    fileio.write_text(zipdir / "Annotations.txt", "\n".join(["Category&VideoID&Quality&StartTime&EndTime", *rows]) + "\n")
    fileio.write_text(zipdir / "categories.txt", "\n".join(AVE_CATEGORIES) + "\n")
    for si, split in enumerate(SPLITS):
        order = np.array([position[(si, i)] for i in range(len(recs[split]))], dtype=np.int64)
        with fileio.atomic_path(base / f"{split}_order.h5") as tmp, h5py.File(tmp, "w", track_order=False) as f:
            f.create_dataset("order", data=order, track_times=False)
        fileio.write_text(zipdir / f"{split}Set.txt", "".join(rows[j] + "\n" for j in order))
