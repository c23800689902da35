"""MUSIC-AVQA: instrument performances with templated questions of the 9 official types.

Scene (10 s): 1-3 on-screen instruments in the left / middle / right slots (the same
instrument may appear twice), each sounding on one contiguous interval (or never) with
its own loudness and rhythm (pulse rate); sometimes an off-screen instrument and a
voiceover; an indoor or outdoor background. The 33 templates of the official dataset
are instantiated from the scene; a question whose answer would be ambiguous (ties,
missing objects) is not asked. Answers are always among the official 42.

Layout (official json format; media mimic the 1 fps frame extraction of the official code):
  music_avqa/json/avqa-{train,val,test}.json        the official fields, "anser" included
  music_avqa/json_update/avqa-{train,val,test}.json the same questions (both versions read the suite)
  music_avqa/frames/<video_id>/000001.jpg ... 000010.jpg, music_avqa/audio/<video_id>.wav
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from avu import fileio
from avu.data.classes import AVQA_INSTRUMENTS, AVQA_QTYPES, avqa_number
from avu.data.synth.catalog import catalog_for
from avu.data.synth.scene import Scene, SceneObject
from avu.data.synth.writers.common import SPLITS, Job, place, write_clip_media

BENCHMARKS = ("avqa",)
SECONDS = 10
VOICE = len(AVQA_INSTRUMENTS)  # catalog index of the voiceover (not an instrument)
SLOTS = {1: ["middle"], 2: ["left", "right"], 3: ["left", "middle", "right"]}
SLOT_RANGE = {"left": (0.0, 1 / 3), "middle": (1 / 3, 2 / 3), "right": (2 / 3, 1.0)}
LOUDNESS = (0.45, 0.9, 1.8)
RHYTHM = (0.0, 2.0, 4.0)


def catalog():
    return catalog_for("avqa", AVQA_INSTRUMENTS + ("voiceover",))


def frame_paths(root: Path, vid: str) -> list[Path]:
    return [root / "music_avqa" / "frames" / vid / f"{k:06d}.jpg" for k in range(1, SECONDS + 1)]


def wav_path(root: Path, vid: str) -> Path:
    return root / "music_avqa" / "audio" / f"{vid}.wav"


class Facts:
    """What the questions are about: the instruments, where they are, when and how they sound."""

    def __init__(self, objs: list[SceneObject], slots: list[str], background: str):
        self.background = background
        self.on = []  # on-screen instruments: dicts with name, slot, onset, offset, loud, rhythm
        self.off = []  # off-screen instruments
        self.voice = False
        for o in objs:
            if o.category == VOICE:
                self.voice = True
                continue
            if o.category < 0:
                continue
            aud = np.flatnonzero(o.audible)
            d = {
                "name": AVQA_INSTRUMENTS[o.category],
                "onset": int(aud[0]) if len(aud) else None,
                "offset": int(aud[-1]) + 1 if len(aud) else None,
                "duration": len(aud),
                "loud": o.loudness,
                "rhythm": o.pulse,
            }
            (self.on if o.visible.any() else self.off).append(d)
        for d, s in zip(self.on, slots):
            d["slot"] = s
        self.on.sort(key=lambda d: ["left", "middle", "right"].index(d["slot"]))

    @property
    def sounding_on(self):
        return [d for d in self.on if d["duration"] > 0]

    @property
    def sounding_all(self):
        return self.sounding_on + [d for d in self.off if d["duration"] > 0]

    def unique_on(self, name):
        hits = [d for d in self.on if d["name"] == name]
        return hits[0] if len(hits) == 1 else None

    def at(self, slot):
        hits = [d for d in self.on if d["slot"] == slot]
        return hits[0] if hits else None


def yn(b: bool) -> str:
    return "yes" if b else "no"


def _absent(rng, cat, present: set[str]) -> str:
    """An instrument not in ``present`` and not sounding like one of them."""
    pres_idx = [AVQA_INSTRUMENTS.index(p) for p in present]
    cands = [i for i in range(len(AVQA_INSTRUMENTS)) if AVQA_INSTRUMENTS[i] not in present
             and not any(cat.conflicts(i, p) for p in pres_idx)]
    return AVQA_INSTRUMENTS[int(rng.choice(cands))]


def templates(f: Facts, rng, cat) -> dict[tuple[str, str], list]:
    """Per question type, the candidate (question_content, templ_values, answer) thunks."""
    names_on = sorted({d["name"] for d in f.on})
    names_snd = sorted({d["name"] for d in f.sounding_all})
    every = set(names_on) | {d["name"] for d in f.off}

    def pick(seq):
        return seq[int(rng.integers(len(seq)))] if seq else None

    def q_is_there_sound():
        x = pick(names_snd) if (names_snd and rng.random() < 0.5) else _absent(rng, cat, every)
        return "Is there a <Object> sound?", [x], yn(x in names_snd)

    def q_two_sounds():
        if len(names_snd) < 1:
            return None
        x = pick(names_snd)
        y = pick([n for n in names_snd if n != x]) if rng.random() < 0.5 and len(names_snd) > 1 else _absent(rng, cat, every)
        return "Are there <Object> and <Object> sound? ", [x, y], yn(x in names_snd and y in names_snd)

    def q_audio_compare(template, key):
        snd = [d for d in f.sounding_all if sum(e["name"] == d["name"] for e in f.on + f.off) == 1]
        if len(snd) < 2:
            return None
        a, b = rng.permutation(len(snd))[:2]
        a, b = snd[a], snd[b]
        if a[key] == b[key]:
            return None
        return template, [a["name"], b["name"]], yn(a[key] > b[key])

    def q_count_visible():
        x = pick(names_on) if rng.random() < 0.8 else _absent(rng, cat, every)
        return "How many <Object> are in the entire video?", [x], avqa_number(sum(d["name"] == x for d in f.on))

    def q_is_there_visible():
        x = pick(names_on) if rng.random() < 0.5 else _absent(rng, cat, every)
        return "Is there a <Object> in the entire video?", [x], yn(x in names_on)

    def q_two_visible():
        x = pick(names_on)
        y = pick([n for n in names_on if n != x]) if rng.random() < 0.5 and len(names_on) > 1 else _absent(rng, cat, every)
        return "Are there <Object> and <Object> instruments in the video?", [x, y], yn(x in names_on and y in names_on)

    def q_neighbour():
        if len(f.on) < 2:
            return None
        i = int(rng.integers(len(f.on)))
        d = f.on[i]
        if f.unique_on(d["name"]) is None:
            return None
        side = "left" if i > 0 and (i == len(f.on) - 1 or rng.random() < 0.5) else "right"
        other = f.on[i - 1] if side == "left" else f.on[i + 1]
        return "What is the instrument on the <LR> of <Object>?", [side, d["name"]], other["name"]

    def q_extreme():
        if len(f.on) < 2:
            return None
        side = "leftest" if rng.random() < 0.5 else "rightest"
        return "What kind of instrument is the <LRer> instrument? ", [side], (f.on[0] if side == "leftest" else f.on[-1])["name"]

    def q_single():
        if len(f.on) != 1:
            return None
        return "What kind of musical instrument is it?", [], f.on[0]["name"]

    def q_always():
        d = pick([d for d in f.on if f.unique_on(d["name"])])
        if d is None:
            return None
        return "Is the <Object> in the video always playing?", [d["name"]], yn(d["duration"] == SECONDS)

    def q_sound_from_video():
        if not f.sounding_all:
            return None
        return "Is this sound from the instrument in the video?", [], yn(not any(d["duration"] for d in f.off))

    def q_sounding_of():
        x = pick(names_on) if rng.random() < 0.85 else _absent(rng, cat, every)
        return "How many sounding <Object> in the video？", [x], avqa_number(sum(d["name"] == x for d in f.sounding_on))

    def first_last(which):
        snd = f.sounding_on
        if not snd:
            return None
        key = min if which == "first" else max
        best = key(d["onset"] for d in snd)
        hits = [d for d in snd if d["onset"] == best]
        return hits[0] if len(hits) == 1 else None

    def q_loudest_where():
        snd = f.sounding_on
        if len(snd) < 2 or len(f.on) < 2:
            return None
        loud = max(snd, key=lambda d: d["loud"])
        if sum(d["loud"] == loud["loud"] for d in snd) > 1:
            return None
        return "Where is the <LL> instrument?", ["loudest"], loud["slot"]

    def q_fl_from_side():
        if len(f.on) < 2:
            return None
        which = "first" if rng.random() < 0.5 else "last"
        d = first_last(which)
        if d is None:
            return None
        side = "left" if rng.random() < 0.5 else "right"
        return "Is the <FL> sound coming from the <LR> instrument?", [which, side], yn(d["slot"] == side)

    def q_same_time():
        snd = f.sounding_on
        d = pick([d for d in snd if f.unique_on(d["name"])])
        if d is None:
            return None
        over = [e for e in snd if e is not d and e["onset"] < d["offset"] and d["onset"] < e["offset"]]
        if len(over) != 1:
            return None
        return "Which is the musical instrument that sounds at the same time as the <Object>?", [d["name"]], over[0]["name"]

    def q_side_of_fl():
        which = "first" if rng.random() < 0.5 else "last"
        d = first_last(which)
        if d is None or len(f.on) < 2:
            return None
        i = f.on.index(d)
        side = "left" if i > 0 and (i == len(f.on) - 1 or rng.random() < 0.5) else "right"
        if (side == "left" and i == 0) or (side == "right" and i == len(f.on) - 1):
            return None
        other = f.on[i - 1] if side == "left" else f.on[i + 1]
        return "What is the <LR> instrument of the <FL> sounding instrument?", [side, which], other["name"]

    def q_av_compare(named: bool, key: str, word: str):
        if len(f.on) < 2:
            return None
        a, b = (f.on[0], f.on[-1]) if rng.random() < 0.5 else (f.on[-1], f.on[0])
        if a["duration"] == 0 or b["duration"] == 0 or a[key] == b[key]:
            return None
        if named:
            return (f"Is the <Object> on the <LR> {word} than the <Object> on the <LR>?",
                    [a["name"], a["slot"], b["name"], b["slot"]], yn(a[key] > b[key]))
        return f"Is the instrument on the <LR> {word} than the instrument on the <LR>?", [a["slot"], b["slot"]], yn(a[key] > b[key])

    def q_th_comes_in():
        snd = f.sounding_on
        onsets = [d["onset"] for d in snd]
        if len(snd) < 2 or len(set(onsets)) != len(onsets):
            return None
        order = sorted(snd, key=lambda d: d["onset"])
        k = int(rng.integers(len(order)))
        return "What is the <TH> instrument that comes in?", [["first", "second", "third"][k]], order[k]["name"]

    def q_where_fl():
        if len(f.on) < 2:
            return None
        which = "first" if rng.random() < 0.5 else "last"
        d = first_last(which)
        return None if d is None else ("Where is the <FL> sounding instrument?", [which], d["slot"])

    def q_which_same_fl():
        dup = [n for n in names_on if sum(d["name"] == n for d in f.on) == 2]
        if not dup:
            return None
        pair = [d for d in f.on if d["name"] == dup[0]]
        if any(d["duration"] == 0 for d in pair):
            return None
        which = "first" if rng.random() < 0.5 else "last"
        a, b = pair
        if a["onset"] == b["onset"]:
            return "Which <Object> makes the sound <FL>?", [dup[0], which], "simultaneously"
        first, last = (a, b) if a["onset"] < b["onset"] else (b, a)
        return "Which <Object> makes the sound <FL>?", [dup[0], which], (first if which == "first" else last)["slot"]

    def q_before_after():
        snd = [d for d in f.sounding_on if f.unique_on(d["name"])]
        onsets = [d["onset"] for d in f.sounding_on]
        if len(snd) < 2 or len(set(onsets)) != len(onsets):
            return None
        order = sorted(f.sounding_on, key=lambda d: d["onset"])
        d = pick([d for d in snd])
        i = order.index(d)
        ba = "before" if i > 0 and (i == len(order) - 1 or rng.random() < 0.5) else "after"
        other = order[i - 1] if ba == "before" else (order[i + 1] if i + 1 < len(order) else None)
        if other is None:
            return None
        return "Which instrument makes sounds <BA> the <Object>?", [ba, d["name"]], other["name"]

    return {
        ("Audio", "Counting"): [
            lambda: ("How many musical instruments were heard throughout the video?", [], avqa_number(len(f.sounding_all))),
            q_is_there_sound, q_two_sounds],
        ("Audio", "Comparative"): [
            lambda: q_audio_compare("Is the <Object> louder than the <Object>?", "loud"),
            lambda: q_audio_compare("Is the <Object> more rhythmic than the <Object>?", "rhythm"),
            lambda: q_audio_compare("Is the <Object> playing longer than the <Object>?", "duration")],
        ("Visual", "Counting"): [
            q_count_visible, q_is_there_visible, q_two_visible,
            lambda: ("How many types of musical instruments appeared in the entire video?", [], avqa_number(len(names_on)))],
        ("Visual", "Location"): [
            q_neighbour, q_extreme, q_single, lambda: ("Where is the performance?", [], f.background)],
        ("Audio-Visual", "Existential"): [
            q_always, q_sound_from_video, lambda: ("Is there a voiceover?", [], yn(f.voice))],
        ("Audio-Visual", "Counting"): [
            lambda: ("How many instruments are sounding in the video?", [], avqa_number(len(f.sounding_on))),
            q_sounding_of,
            lambda: ("How many instruments in the video did not sound from beginning to end?", [],
                     avqa_number(sum(d["duration"] == 0 for d in f.on))),
            lambda: ("How many types of musical instruments sound in the video?", [],
                     avqa_number(len({d["name"] for d in f.sounding_on})))],
        ("Audio-Visual", "Location"): [q_loudest_where, q_fl_from_side, q_same_time, q_side_of_fl],
        ("Audio-Visual", "Comparative"): [
            lambda: q_av_compare(True, "loud", "louder"), lambda: q_av_compare(False, "loud", "louder"),
            lambda: q_av_compare(True, "rhythm", "more rhythmic"), lambda: q_av_compare(False, "rhythm", "more rhythmic")],
        ("Audio-Visual", "Temporal"): [q_th_comes_in, q_where_fl, q_which_same_fl, q_before_after],
    }


def scene_for(job: Job) -> tuple[Scene, Facts]:
    rng, knobs, cat = job.rng, job.knobs, catalog()
    n_on = int(rng.choice([1, 2, 3], p=[0.25, 0.4, 0.35]))
    first = int(job.permutation(len(AVQA_INSTRUMENTS))[job.index % len(AVQA_INSTRUMENTS)])
    names = [first]
    for _ in range(n_on - 1):
        if rng.random() < 0.2:
            names.append(names[int(rng.integers(len(names)))])  # the same instrument twice
        else:
            others = [c for c in range(len(AVQA_INSTRUMENTS)) if c not in names and not any(cat.conflicts(c, o) for o in names)]
            names.append(int(rng.choice(others)))
    slots = SLOTS[n_on]
    loud = rng.permutation(LOUDNESS)
    objs = []
    for j, c in enumerate(names):
        aud = np.zeros(SECONDS, bool)
        if rng.random() > 0.15:
            onset = int(rng.integers(0, 6)) if rng.random() < 0.6 else 0
            offset = SECONDS if rng.random() < 0.5 else int(rng.integers(onset + 2, SECONDS + 1))
            aud[onset:offset] = True
        objs.append(place(rng, c, np.ones(SECONDS, bool), aud, SLOT_RANGE[slots[j]], knobs, cat,
                          loudness=float(loud[j]), pulse=float(rng.choice(RHYTHM))))
    if rng.random() < knobs.p_offscreen * 0.7:
        others = [c for c in range(len(AVQA_INSTRUMENTS)) if c not in names and not any(cat.conflicts(c, o) for o in names)]
        c = int(rng.choice(others))
        aud = np.zeros(SECONDS, bool)
        onset = int(rng.integers(0, 7))
        aud[onset:] = True
        objs.append(place(rng, c, np.zeros(SECONDS, bool), aud, (0, 1), knobs, cat, loudness=float(rng.choice(LOUDNESS)),
                          pulse=float(rng.choice(RHYTHM))))
    if rng.random() < 0.3:
        aud = np.zeros(SECONDS, bool)
        onset = int(rng.integers(0, 6))
        aud[onset : onset + int(rng.integers(2, 5))] = True
        objs.append(place(rng, VOICE, np.zeros(SECONDS, bool), aud, (0, 1), knobs, cat, loudness=0.8))
    background = "indoor" if rng.random() < 0.65 else "outdoor"
    facts = Facts(objs, slots, background)
    scene = Scene(SECONDS, objs, background, int(rng.integers(2**31)), knobs.noise_level)
    return scene, facts


def clip(job: Job) -> dict:
    rng = job.rng
    scene, facts = scene_for(job)
    cat = catalog()
    vid_no = {"train": 0, "val": 1_000_000, "test": 2_000_000}[job.split] + job.index + 1
    vid = f"{vid_no:08d}"
    write_clip_media(job, scene, cat, frame_paths(Path(job.root), vid), wav_path(Path(job.root), vid))
    qrng = np.random.default_rng([int(rng.integers(2**62)), 3])
    table = templates(facts, qrng, cat)
    questions = []
    for qtype in AVQA_QTYPES:  # at most one question per type per video: balanced types
        cands = table[qtype]
        for k in qrng.permutation(len(cands)):
            q = cands[int(k)]()
            if q is not None:
                content, values, answer = q
                questions.append({"type": list(qtype), "question_content": content, "templ_values": values, "anser": answer})
                break
    return {"video_id": vid, "questions": questions}


def finish(root: Path, records: dict[str, dict[str, list[dict]]]) -> dict:
    recs = records["avqa"]
    qid = 0
    counts = {}
    for s in SPLITS:
        rows = []
        for r in recs[s]:
            for q in r["questions"]:
                rows.append({
                    "video_id": r["video_id"],
                    "question_id": qid,
                    "type": json.dumps(q["type"]),
                    "question_content": q["question_content"],
                    "templ_values": json.dumps(q["templ_values"]),
                    "question_deleted": 0,
                    "anser": q["anser"],
                })
                qid += 1
        text = json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
        fileio.write_text(root / "music_avqa" / "json" / f"avqa-{s}.json", text)
        fileio.write_text(root / "music_avqa" / "json_update" / f"avqa-{s}.json", text)
        counts[s] = len(rows)
    return {"avqa": counts}
