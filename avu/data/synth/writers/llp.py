"""LLP / AVVP: weakly labelled 10-second videos with dense audio and visual events.

Scene: 1-3 classes per video; each class's object has independent audible and visible
runs, so every event is audio-only (off-screen), visual-only (silent) or audio-visual
on some segments. A visual event is the object being visible, an audio event its sound
being on (the official GT_av is their product). Clutter shapes and noises are no class.

Layout (official names, all TAB-separated with a header despite .csv):
  avvp/AVVP_train.csv, AVVP_val_pd.csv, AVVP_test_pd.csv, AVVP_dataset_full.csv
      filename, event_labels (comma-separated)
  avvp/AVVP_eval_audio.csv, AVVP_eval_visual.csv  filename, onset, offset, event_labels (val + test)
  avvp/v2020/AVVP_eval_audio.csv                  the same rows (both annotation versions read the suite)
  avvp/frames/<filename>/000001.jpg ... 000010.jpg, avvp/audio/<filename>.wav
filename = <11-char id>_<start>_<start+10>, as the official ids.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from avu import fileio
from avu.data.classes import LLP_CLASSES
from avu.data.synth.catalog import catalog_for
from avu.data.synth.scene import Scene, random_flags, runs
from avu.data.synth.writers.common import (
    SPLITS,
    Job,
    clutter,
    clutter_sound,
    pick_others,
    place,
    slot_ranges,
    tsv,
    write_clip_media,
    youtube_like_id,
)

BENCHMARKS = ("llp",)
SECONDS = 10


def catalog():
    return catalog_for("llp", LLP_CLASSES)


def frame_paths(root: Path, name: str, n: int = SECONDS) -> list[Path]:
    return [root / "avvp" / "frames" / name / f"{k:06d}.jpg" for k in range(1, n + 1)]


def wav_path(root: Path, name: str) -> Path:
    return root / "avvp" / "audio" / f"{name}.wav"


def scene_for(job: Job) -> tuple[Scene, list[dict]]:
    rng, knobs, cat = job.rng, job.knobs, catalog()
    first = int(job.permutation(len(cat))[job.index % len(cat)])
    k = int(rng.choice([1, 2, 3], p=[0.35, 0.45, 0.2]))
    classes = [first] + pick_others(rng, cat, [first], k - 1)
    has_clutter = rng.random() < knobs.p_clutter
    slots = slot_ranges(len(classes) + int(has_clutter))
    order = rng.permutation(len(slots))
    objs, events = [], []
    for j, c in enumerate(classes):
        kind = rng.choice(["av", "audio", "visual"], p=[0.55, 0.25, 0.2])
        vis = random_flags(rng, SECONDS, 0.6) if kind != "audio" else np.zeros(SECONDS, bool)
        aud = random_flags(rng, SECONDS, 0.6) if kind != "visual" else np.zeros(SECONDS, bool)
        if kind == "av" and not (vis & aud).any():  # an audio-visual event must overlap somewhere
            aud |= vis
        objs.append(place(rng, c, vis, aud, slots[order[j]], knobs, cat, loudness=float(rng.uniform(0.6, 1.2))))
        events.append({"class": c, "audio": runs(aud), "visual": runs(vis)})
    if has_clutter:
        objs.append(clutter(rng, SECONDS, slots[order[-1]], knobs))
    if rng.random() < knobs.p_clutter / 2:
        objs.append(clutter_sound(rng, SECONDS))
    rng.shuffle(objs)
    return Scene(SECONDS, objs, "plain", int(rng.integers(2**31)), knobs.noise_level), events


def clip(job: Job) -> dict:
    root = Path(job.root)
    start = 10 * int(job.rng.integers(0, 30))
    name = f"{youtube_like_id(job.seed, job.benchmark, job.split, job.index)}_{start}_{start + SECONDS}"
    scene, events = scene_for(job)
    write_clip_media(job, scene, catalog(), frame_paths(root, name), wav_path(root, name))
    return {"filename": name, "events": events}


def finish(root: Path, records: dict[str, dict[str, list[dict]]]) -> None:
    recs = records["llp"]
    base = root / "avvp"
    weak = {s: [[r["filename"], ",".join(LLP_CLASSES[e["class"]] for e in r["events"])] for r in recs[s]] for s in SPLITS}
    header = ["filename", "event_labels"]
    fileio.write_text(base / "AVVP_train.csv", tsv(weak["train"], header))
    fileio.write_text(base / "AVVP_val_pd.csv", tsv(weak["val"], header))
    fileio.write_text(base / "AVVP_test_pd.csv", tsv(weak["test"], header))
    fileio.write_text(base / "AVVP_dataset_full.csv", tsv(weak["train"] + weak["val"] + weak["test"], header))
    dense = {"audio": [], "visual": []}
    for s in ("val", "test"):
        for r in recs[s]:
            for e in r["events"]:
                for mod in dense:
                    dense[mod] += [[r["filename"], on, off, LLP_CLASSES[e["class"]]] for on, off in e[mod]]
    header = ["filename", "onset", "offset", "event_labels"]
    fileio.write_text(base / "AVVP_eval_audio.csv", tsv(dense["audio"], header))
    fileio.write_text(base / "v2020" / "AVVP_eval_audio.csv", tsv(dense["audio"], header))
    fileio.write_text(base / "AVVP_eval_visual.csv", tsv(dense["visual"], header))
