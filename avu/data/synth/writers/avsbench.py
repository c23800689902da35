"""AVSBench: S4 (one sounding source), MS3 (several) and AVSS (semantic), in the official layout.

Scenes:
* S4: one object sounds for the whole 5 s; 0-2 silent distractors (its look-alike often).
  Mask of frame k = the sounding object's silhouette.
* MS3: 2-3 objects switch their sound on and off per second; silent distractors and
  off-screen sounds. Mask of frame k = the objects sounding at second k (may be empty).
* AVSS: 1-4 sounding objects of the 70 classes (per-second sounding), silent objects and
  off-screen sounds; label of a pixel = class of the sounding object there, else 0.
  ``v2`` clips have 10 frames, ``v1m`` clips 5 (padded to 10 by the readers, as officially).
  In every split the sounding classes follow a seeded cycle over the 70 classes, so a
  test split of >= 28 clips covers every class (the official mIoU averages all 71).

Layout (names of the official release / code):
  avsbench/Single-source/s4_meta_data.csv          name,start,category,split
  avsbench/Single-source/s4_data/visual_frames/<split>/<category>/<name>/<name>_<k>.png  (k = 1..5)
  avsbench/Single-source/s4_data/gt_masks/<split>/<category>/<name>/<name>_<k>.png     (L, 0/255)
  avsbench/Single-source/s4_data/audio_wav/<split>/<category>/<name>.wav
  avsbench/Multi-sources/ms3_meta_data.csv         video_id,split
  avsbench/Multi-sources/ms3_data/visual_frames/<name>/<name>.mp4_<k>.png
  avsbench/Multi-sources/ms3_data/gt_masks/<split>/<name>/<name>_<k>.png
  avsbench/Multi-sources/ms3_data/audio_wav/<split>/<name>.wav
  avsbench/metadata.csv                            vid,uid,s_min,s_sec,a_obj,split,label
  avsbench/label2idx.json                          the official 71-class mapping
  avsbench/<label>/<uid>/frames/<k>.jpg, labels_rgb/<k>.png (palette colours), audio.wav   (k from 0)
The generated S4 train split has all 5 masks (officially only the first is annotated).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from avu import fileio
from avu.data import media
from avu.data.classes import AVSS_CLASSES, S4_CATEGORIES, avss_palette
from avu.data.synth.catalog import catalog_for
from avu.data.synth.scene import Scene, random_flags
from avu.data.synth.writers.common import (
    SPLITS,
    Job,
    clutter_sound,
    pick_others,
    place,
    slot_ranges,
    write_clip_media,
    youtube_like_id,
)

BENCHMARKS = ("avs_s4", "avs_ms3", "avss")
S4_SECONDS = 5
#: objects are larger than in the classification scenes: masks of a few pixels at 64 px say little
SCALE = 1.6


def catalog(benchmark: str):
    if benchmark == "avss":
        return catalog_for("avss", AVSS_CLASSES[1:])  # index + 1 = AVSS class
    return catalog_for("avs_s4", S4_CATEGORIES)  # MS3 clips draw the S4 categories


def s4_paths(root: Path, split: str, category: str, name: str):
    base = root / "avsbench" / "Single-source" / "s4_data"
    frames = [base / "visual_frames" / split / category / name / f"{name}_{k}.png" for k in range(1, 6)]
    masks = [base / "gt_masks" / split / category / name / f"{name}_{k}.png" for k in range(1, 6)]
    return frames, masks, base / "audio_wav" / split / category / f"{name}.wav"


def ms3_paths(root: Path, split: str, name: str):
    base = root / "avsbench" / "Multi-sources" / "ms3_data"
    frames = [base / "visual_frames" / name / f"{name}.mp4_{k}.png" for k in range(1, 6)]
    masks = [base / "gt_masks" / split / name / f"{name}_{k}.png" for k in range(1, 6)]
    return frames, masks, base / "audio_wav" / split / f"{name}.wav"


def avss_paths(root: Path, label: str, uid: str, n: int):
    base = root / "avsbench" / label / uid
    frames = [base / "frames" / f"{k}.jpg" for k in range(n)]
    masks = [base / "labels_rgb" / f"{k}.png" for k in range(n)]
    return frames, masks, base / "audio.wav"


def _write_binary(masks_bool: np.ndarray, paths: list[Path]) -> None:
    for m, p in zip(masks_bool, paths):
        p.parent.mkdir(parents=True, exist_ok=True)
        media.write_image(p, (m * 255).astype(np.uint8))


def _distractors(rng, job: Job, cat, sounding: list[int], seconds: int, n_max: int) -> list[int]:
    n = int(rng.integers(0, n_max + 1)) if rng.random() < job.knobs.p_distractor else 0
    out = []
    for s in sounding:
        look = cat[s].look_alike
        if len(out) < n and look >= 0 and look not in sounding + out and rng.random() < 0.6 \
                and not any(cat.conflicts(look, o) for o in sounding + out):
            out.append(look)
    return out + pick_others(rng, cat, sounding + out, n - len(out))


def clip_s4(job: Job) -> dict:
    rng, knobs, cat = job.rng, job.knobs, catalog("avs_s4")
    c = int(job.permutation(len(cat))[job.index % len(cat)])
    distract = _distractors(rng, job, cat, [c], S4_SECONDS, 2)
    slots = slot_ranges(1 + len(distract))
    order = rng.permutation(len(slots))
    on, off = np.ones(S4_SECONDS, bool), np.zeros(S4_SECONDS, bool)
    objs = [place(rng, c, on, on, slots[order[0]], knobs, cat, scale=SCALE)]
    objs += [place(rng, d, on, off, slots[order[1 + j]], knobs, cat, scale=SCALE) for j, d in enumerate(distract)]
    rng.shuffle(objs)
    scene = Scene(S4_SECONDS, objs, "plain", int(rng.integers(2**31)), knobs.noise_level)
    category = S4_CATEGORIES[c]
    name = f"{youtube_like_id(job.seed, job.benchmark, job.split, job.index)}_{int(rng.integers(0, 30))}"
    frames, mask_paths, wav = s4_paths(Path(job.root), job.split, category, name)
    masks = write_clip_media(job, scene, cat, frames, wav)
    src = [i for i, o in enumerate(objs) if o.audible.any()]
    _write_binary(masks[:, src].any(axis=1), mask_paths)
    return {"name": name, "category": category}


def clip_ms3(job: Job) -> dict:
    rng, knobs, cat = job.rng, job.knobs, catalog("avs_ms3")
    first = int(job.permutation(len(cat))[job.index % len(cat)])
    sounding = [first] + pick_others(rng, cat, [first], int(rng.integers(1, 3)))
    distract = _distractors(rng, job, cat, sounding, S4_SECONDS, 1)
    slots = slot_ranges(len(sounding) + len(distract))
    order = rng.permutation(len(slots))
    on, off = np.ones(S4_SECONDS, bool), np.zeros(S4_SECONDS, bool)
    objs = []
    for j, c in enumerate(sounding):
        vis = on if rng.random() < 0.8 else random_flags(rng, S4_SECONDS, 0.7)
        objs.append(place(rng, c, vis, random_flags(rng, S4_SECONDS, 0.6), slots[order[j]], knobs, cat, scale=SCALE))
    objs += [place(rng, d, on, off, slots[order[len(sounding) + j]], knobs, cat, scale=SCALE) for j, d in enumerate(distract)]
    if rng.random() < knobs.p_offscreen:
        for d in pick_others(rng, cat, sounding + distract, 1):
            objs.append(place(rng, d, off, random_flags(rng, S4_SECONDS, 0.6), (0, 1), knobs, cat, scale=SCALE))
    rng.shuffle(objs)
    scene = Scene(S4_SECONDS, objs, "plain", int(rng.integers(2**31)), knobs.noise_level)
    name = youtube_like_id(job.seed, job.benchmark, job.split, job.index)
    frames, mask_paths, wav = ms3_paths(Path(job.root), job.split, name)
    masks = write_clip_media(job, scene, cat, frames, wav)
    sound = np.array([[o.audible[t] and o.category >= 0 for o in objs] for t in range(S4_SECONDS)])  # (T, n)
    _write_binary((masks & sound[:, :, None, None]).any(axis=1), mask_paths)
    return {"name": name}


def _avss_count(index: int) -> int:
    """Sounding objects in clip ``index``: 1, 2, 3, 4, 1, 2, ... (mean 2.5)."""
    return 1 + index % 4


@lru_cache(maxsize=64)
def avss_groups(seed: int, split: str, n_clips: int) -> tuple[tuple[int, ...], ...]:
    """The sounding classes of every clip of a split: consecutive runs of a sequence of seeded
    permutations of the 70 classes (so every 70 objects cover every class), with sound-alike
    clashes inside a clip resolved by swapping with a later class of the sequence."""
    cat = catalog("avss")
    total = sum(_avss_count(i) for i in range(n_clips))
    rng = np.random.default_rng([seed, 71, SPLITS.index(split)])
    seq = np.concatenate([rng.permutation(len(cat)) for _ in range(total // len(cat) + 1)]).tolist()
    groups, pos = [], 0
    for i in range(n_clips):
        k = _avss_count(i)
        for j in range(pos, pos + k):
            if any(seq[j] == seq[o] or cat.conflicts(seq[j], seq[o]) for o in range(pos, j)):
                for m in range(pos + k, len(seq)):
                    if not any(seq[m] == seq[o] or cat.conflicts(seq[m], seq[o]) for o in range(pos, j)):
                        seq[j], seq[m] = seq[m], seq[j]
                        break
        groups.append(tuple(int(c) for c in seq[pos : pos + k]))
        pos += k
    return tuple(groups)


def clip_avss(job: Job) -> dict:
    rng, knobs, cat = job.rng, job.knobs, catalog("avss")
    label = "v1m" if rng.random() < 0.3 else "v2"
    seconds = 5 if label == "v1m" else 10
    sounding = list(avss_groups(job.seed, job.split, job.n_in_split)[job.index])
    k = len(sounding)
    distract = _distractors(rng, job, cat, sounding, seconds, 1) if k < 4 else []
    slots = slot_ranges(len(sounding) + len(distract))
    order = rng.permutation(len(slots))
    on, off = np.ones(seconds, bool), np.zeros(seconds, bool)
    objs = []
    for j, c in enumerate(sounding):
        aud = random_flags(rng, seconds, 0.6)
        objs.append(place(rng, c, on, aud, slots[order[j]], knobs, cat, scale=SCALE))
    objs += [place(rng, d, on, off, slots[order[len(sounding) + j]], knobs, cat, scale=SCALE) for j, d in enumerate(distract)]
    if rng.random() < knobs.p_offscreen:
        for d in pick_others(rng, cat, sounding + distract, 1):
            objs.append(place(rng, d, off, random_flags(rng, seconds, 0.5), (0, 1), knobs, cat, scale=SCALE))
    if rng.random() < knobs.p_clutter / 2:
        objs.append(clutter_sound(rng, seconds))
    rng.shuffle(objs)
    scene = Scene(seconds, objs, "plain", int(rng.integers(2**31)), knobs.noise_level)
    uid = f"{youtube_like_id(job.seed, job.benchmark, job.split, job.index)}_{int(rng.integers(0, 20))}"
    frames, mask_paths, wav = avss_paths(Path(job.root), label, uid, seconds)
    masks = write_clip_media(job, scene, cat, frames, wav)
    palette = np.asarray(avss_palette(), np.uint8)
    for t, p in enumerate(mask_paths):
        lab = np.zeros(masks.shape[2:], np.uint8)
        for oi, o in enumerate(objs):
            if o.category >= 0 and o.audible[t]:
                lab[masks[t, oi]] = o.category + 1
        p.parent.mkdir(parents=True, exist_ok=True)
        media.write_image(p, palette[lab])
    names = sorted({AVSS_CLASSES[c + 1] for c in sounding})
    return {"uid": uid, "label": label, "a_obj": "_".join(names)}


def clip(job: Job) -> dict:
    return {"avs_s4": clip_s4, "avs_ms3": clip_ms3, "avss": clip_avss}[job.benchmark](job)


def finish(root: Path, records: dict[str, dict[str, list[dict]]]) -> None:
    base = root / "avsbench"
    if "avs_s4" in records:
        rows = ["name,start,category,split"]
        for s in SPLITS:
            rows += [f"{r['name']},{r['name'].rsplit('_', 1)[1]},{r['category']},{s}" for r in records["avs_s4"][s]]
        fileio.write_text(base / "Single-source" / "s4_meta_data.csv", "\n".join(rows) + "\n")
    if "avs_ms3" in records:
        rows = ["video_id,split"] + [f"{r['name']},{s}" for s in SPLITS for r in records["avs_ms3"][s]]
        fileio.write_text(base / "Multi-sources" / "ms3_meta_data.csv", "\n".join(rows) + "\n")
    if "avss" in records:
        rows = ["vid,uid,s_min,s_sec,a_obj,split,label"]
        for s in SPLITS:
            for r in records["avss"][s]:
                vid, start = r["uid"].rsplit("_", 1)
                rows.append(f"{vid},{r['uid']},{int(start) // 60},{int(start) % 60},{r['a_obj']},{s},{r['label']}")
        fileio.write_text(base / "metadata.csv", "\n".join(rows) + "\n")
        fileio.write_text(base / "label2idx.json", json.dumps({c: i + 1 for i, c in enumerate(AVSS_CLASSES)}, indent=4) + "\n")
