"""Raw-media samples of each benchmark, built from the official annotation readers.

Labels always come from ``avu.data.annotations.<dataset>.load_references`` (the readers
the evaluators use), so a generated suite and a real dataset go through the same code.
Media layouts looked for (the generated suite writes exactly these; for real data,
extract frames and 16 kHz wavs as docs/synthetic.md describes):

  ave         ave/frames/<VideoID>/*.jpg (10 used)         ave/audio/<VideoID>.wav
  llp         avvp/frames/<filename>/*.jpg (10 used)       avvp/audio/<filename>.wav
  vggss       vggss/frames/<file>.jpg                      vggss/audio/<file>.wav
  avs_s4      avsbench/Single-source/s4_data/visual_frames/<split>/<category>/<name>/<name>_<k>.png,
              .../audio_wav/<split>/<category>/<name>.wav
  avs_ms3     avsbench/Multi-sources/ms3_data/visual_frames/<name>/<name>.mp4_<k>.png,
              .../audio_wav/<split>/<name>.wav
  avss        avsbench/<label>/<uid>/frames/<k>.jpg, audio.wav (v1 clips padded to 10 frames)
  avqa        music_avqa/frames/<video_id>/*.jpg (10 used)  music_avqa/audio/<video_id>.wav
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from avu.benchmarks import dataset_dir
from avu.data.annotations.common import generated_suite_info
from avu.data.datasets.base import ClipMedia, SampleSpec

GT_SIZE = 224


def ave_specs(root: Path, split: str, version: str | None = None):
    from avu.data.annotations import ave

    folder = dataset_dir(root, "ave")
    refs = ave.load_references(folder, split, version or "official")
    specs = []
    for i, sid in enumerate(refs.ids):
        vid = refs.video_ids[i]
        clip = ClipMedia(vid, folder / "audio" / f"{vid}.wav", 10.0, 10, frame_dir=folder / "frames" / vid)
        specs.append(SampleSpec(sid, clip, {"labels": refs.labels[i].astype(np.int64)}))
    return specs, refs, 10.0


def llp_specs(root: Path, split: str, version: str | None = None):
    from avu.data.annotations import llp

    folder = dataset_dir(root, "llp")
    refs = llp.load_references(folder, split, version or llp.DEFAULT_VERSION)
    specs = []
    for i, name in enumerate(refs.ids):
        clip = ClipMedia(name, folder / "audio" / f"{name}.wav", 10.0, 10, frame_dir=folder / "frames" / name)
        target = {"video_labels": refs.weak_labels[i].astype(np.float32)}
        if refs.has_dense:
            target["audio"] = np.ascontiguousarray(refs.gt_audio[i].T)  # (10, 25)
            target["visual"] = np.ascontiguousarray(refs.gt_visual[i].T)
        specs.append(SampleSpec(name, clip, target))
    return specs, refs, 10.0


def vggss_specs(root: Path, split: str, version: str | None = None):
    from avu.data.annotations import vggss

    folder = dataset_dir(root, "vggss")
    refs = vggss.load_references(folder, split, version or "official")
    specs = []
    for i, file in enumerate(refs.ids):
        clip = ClipMedia(file, folder / "audio" / f"{file}.wav", 10.0, 1, frames=[folder / "frames" / f"{file}.jpg"])
        boxes = np.clip(np.asarray(refs.boxes[i], np.float32).reshape(-1, 4), 0.0, 1.0)
        specs.append(SampleSpec(file, clip, {"boxes": boxes, "class": refs.classes[i]},
                                lazy_target={"gt_map": _gt_map(refs, i)}))
    return specs, refs, 10.0


def _gt_map(refs, i: int):
    return lambda: refs.gt_maps([i])[0].astype(np.float32)


def _avs_masks(refs, sid: str, n: int):
    def load() -> np.ndarray:
        m = refs.masks(sid)
        if m.shape[0] < n:  # S4 train: only the first frame is annotated officially
            m = np.concatenate([m, np.zeros((n - m.shape[0],) + m.shape[1:], np.uint8)])
        return m

    return load


def avs_binary_specs(root: Path, split: str, benchmark: str, version: str | None = None):
    from avu.data.annotations import avsbench

    folder = dataset_dir(root, benchmark)
    load = avsbench.load_s4_references if benchmark == "avs_s4" else avsbench.load_ms3_references
    refs = load(folder, split, version or "official", hash_masks=False)
    specs = []
    for name in refs.ids:
        if benchmark == "avs_s4":
            cat = refs.categories[name]
            base = folder / "Single-source" / "s4_data"
            frames = [base / "visual_frames" / split / cat / name / f"{name}_{k}.png" for k in range(1, 6)]
            wav = base / "audio_wav" / split / cat / f"{name}.wav"
        else:
            base = folder / "Multi-sources" / "ms3_data"
            frames = [base / "visual_frames" / name / f"{name}.mp4_{k}.png" for k in range(1, 6)]
            wav = base / "audio_wav" / split / f"{name}.wav"
        valid = np.zeros(5, bool)
        valid[: refs.frames] = True
        target = {"mask_valid": valid}
        if benchmark == "avs_s4":
            target["class"] = refs.categories[name]  # S4: one sounding category per video
        specs.append(SampleSpec(name, ClipMedia(name, wav, 5.0, 5, frames=frames), target,
                                lazy_target={"masks": _avs_masks(refs, name, 5)}))
    return specs, refs, 5.0


def avss_specs(root: Path, split: str, version: str | None = None):
    from avu.data.annotations import avsbench

    folder = dataset_dir(root, "avss")
    refs = avsbench.load_avss_references(folder, split, version or "official", hash_masks=False)
    base = folder
    specs = []
    for uid in refs.ids:
        subset = refs.subsets[uid]
        n_real = avsbench.AVSS_SUBSETS[subset]
        frames: list[Path | None] = [base / subset / uid / "frames" / f"{k}.jpg" for k in range(n_real)]
        frames += [None] * (avsbench.AVSS_FRAMES - n_real)  # official black padding frames
        valid = np.zeros(avsbench.AVSS_FRAMES, bool)
        valid[:n_real] = True
        clip = ClipMedia(uid, base / subset / uid / "audio.wav", float(n_real), avsbench.AVSS_FRAMES, frames=frames)
        specs.append(SampleSpec(uid, clip, {"frame_valid": valid}, lazy_target={"labels": _avss_labels(refs, uid)}))
    return specs, refs, 10.0


def _avss_labels(refs, uid: str):
    return lambda: refs.masks(uid)


def avqa_specs(root: Path, split: str, version: str | None = None):
    from avu.data.annotations import avqa

    folder = dataset_dir(root, "avqa")
    refs = avqa.load_references(folder, split, version or avqa.DEFAULT_VERSION)
    # generated clips last 10 s; the real MUSIC-AVQA videos last 60 s
    seconds = 10.0 if generated_suite_info(folder) is not None else 60.0
    specs = []
    for s in refs.samples():
        clip = ClipMedia(s.video_id, folder / "audio" / f"{s.video_id}.wav", seconds, 10,
                         frame_dir=folder / "frames" / s.video_id)
        specs.append(SampleSpec(s.id, clip, {
            "question": s.question, "answer": s.answer, "qtype": tuple(s.type),
            "answer_label": np.int64(s.answer_label), "type_index": np.int64(s.type_index),
        }))
    return specs, refs, seconds


def specs_for(benchmark: str, root: Path, split: str, version: str | None = None):
    if benchmark in ("avs_s4", "avs_ms3"):
        return avs_binary_specs(root, split, benchmark, version)
    return {"ave": ave_specs, "llp": llp_specs, "vggss": vggss_specs, "avss": avss_specs, "avqa": avqa_specs}[benchmark](
        root, split, version)
