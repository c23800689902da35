"""VGG-SS: one frame and 10 s of audio; boxes around the visible sounding object(s).

Scene: two large, tall objects side by side (one per half of the frame), one sounding and one silent (often its look-alike,
so the box needs the sound), sometimes a small silent object in front; in 15 % of clips
both large objects sound (two boxes). Sources are large, as in VGG-SS, because the
default EZ-VSL protocol selects at least half of the pixels: a box must cover a quarter
of the frame for any map to reach cIoU 0.5. No off-screen sources (VGG-SS sources are on
screen).

Layout (EZ-VSL conventions; annotation names as the official files):
  vggss/vggss.json               [{"file", "class", "bbox": [[xmin, ymin, xmax, ymax], ...]}] (normalised)
  vggss/vggss_test.csv           test ids, one per line (CRLF, like the official file)
  vggss/vggss_train.csv, vggss/vggss_val.csv    the generated suite's other splits, same format
  vggss/frames/<file>.jpg (the frame at 5.5 s), vggss/audio/<file>.wav (10 s)
Box coordinates are (pixel + 0.25) / 224 so that int(224 * x) (the LVS and EZ-VSL rule) gives
back the exact pixel bounds; xmax/ymax are exclusive and 1.0 at the frame edge.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from avu import fileio
from avu.data import world
from avu.data.synth.catalog import catalog_for
from avu.data.synth.render import bbox
from avu.data.synth.scene import Scene, SceneObject, random_flags, trajectory
from avu.data.synth.writers.common import (
    SPLITS,
    Job,
    clutter,
    pick_others,
    write_clip_media,
    youtube_like_id,
)

BENCHMARKS = ("vggss",)
SECONDS = 10
FRAME_T = 5
#: the 221 class names of the official vggss.json, each drawn as its world category
VGGSS_CLASSES = world.class_names("vggss")


def catalog():
    return catalog_for("vggss", VGGSS_CLASSES)


def frame_path(root: Path, file: str) -> Path:
    return root / "vggss" / "frames" / f"{file}.jpg"


def wav_path(root: Path, file: str) -> Path:
    return root / "vggss" / "audio" / f"{file}.wav"


def norm(pixel: int, size: int) -> float:
    return 1.0 if pixel >= size else round((pixel + 0.25) / size, 6)


def clip(job: Job) -> dict:
    rng, knobs, cat = job.rng, job.knobs, catalog()
    root = Path(job.root)
    main = int(job.permutation(len(cat))[job.index % len(cat)])
    two = rng.random() < 0.15
    sounding = [main] + pick_others(rng, cat, [main], int(two))
    if two:
        large, small = sounding, pick_others(rng, cat, sounding, int(rng.random() < 0.5))
    else:
        look = cat[main].look_alike
        if look >= 0 and rng.random() < 0.6:
            other = look
        else:
            other = pick_others(rng, cat, [main], 1)[0]
        large = [main, other]
        small = pick_others(rng, cat, large, int(rng.random() < 0.3))
    # two large objects side by side (real VGG-SS sources fill much of the frame: the official
    # >= median mask selects half the pixels, so a box must cover >= 1/4 of the frame to be findable)
    order = rng.permutation(2)
    halves = [(0.0, 0.5), (0.5, 1.0)]
    on = np.ones(SECONDS, bool)
    off = np.zeros(SECONDS, bool)
    objs = []
    for j, c in enumerate(large):
        aud = (random_flags(rng, SECONDS, 0.8) | (np.arange(SECONDS) == FRAME_T)) if c in sounding else off
        r, aspect = float(rng.uniform(0.2, 0.245)), float(rng.uniform(1.55, 1.9))
        x0, x1 = halves[order[j]]
        centre = (float(rng.uniform(x0 + r, x1 - r)) if x1 - x0 > 2 * r else (x0 + x1) / 2,
                  float(rng.uniform(r * aspect, 1 - r * aspect)))
        objs.append(SceneObject(c, on, aud, centre, centre, r, loudness=float(rng.uniform(0.8, 1.2)), aspect=aspect))
    for c in small:  # a small silent object in front
        start, _ = trajectory(rng, 0.12, 0.0)
        objs.append(SceneObject(c, on, off, start, start, float(rng.uniform(0.09, 0.13))))
    if rng.random() < knobs.p_clutter:
        objs.append(clutter(rng, SECONDS, (0.0, 1.0), knobs))
    scene = Scene(SECONDS, objs, "plain", int(rng.integers(2**31)), knobs.noise_level)
    file = f"{youtube_like_id(job.seed, job.benchmark, job.split, job.index)}_{10 * int(rng.integers(0, 30)):06d}"
    masks = write_clip_media(job, scene, cat, [frame_path(root, file)], wav_path(root, file), frames=[FRAME_T])
    boxes = []
    size = job.frame_size
    for oi, obj in enumerate(objs):
        if obj.category in sounding and obj.audible.any():
            b = bbox(masks[0, oi])
            if b is not None:
                boxes.append([norm(b[0], size), norm(b[1], size), norm(b[2], size), norm(b[3], size)])
    return {"file": file, "class": VGGSS_CLASSES[main], "bbox": boxes}


def finish(root: Path, records: dict[str, dict[str, list[dict]]]) -> None:
    recs = records["vggss"]
    base = root / "vggss"
    entries = [r for s in SPLITS for r in recs[s]]
    fileio.write_text(base / "vggss.json", json.dumps(entries))
    for s in SPLITS:
        fileio.write_text(base / f"vggss_{s}.csv", "".join(f"{r['file']}\r\n" for r in recs[s]))
