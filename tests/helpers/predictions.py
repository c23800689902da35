"""Valid prediction files of every benchmark, built from its references, for tests that plant
one defect (or none) in an otherwise good file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from avu.benchmarks import dataset_dir, get_spec
from avu.references import References

#: the payload array of `npz_arrays`
NPZ_KEY = {"ave": "labels", "llp": "global_prob", "vggss": "heatmaps", "avs_s4": "probs", "avs_ms3": "probs",
           "avss": "labels", "avqa": "answers"}
#: the JSON per-sample field each benchmark's builder uses
JSON_FIELD = {"ave": "labels", "llp": "global_prob", "vggss": "heatmaps", "avs_s4": "masks",
              "avs_ms3": "masks", "avss": "masks", "avqa": "answer"}


def load(benchmark: str, root: Path) -> References:
    spec = get_spec(benchmark)
    return spec.load_references(dataset_dir(root, benchmark), split="test", version=spec.default_annotation_version)


def empty_rle(h: int, w: int) -> dict:
    return {"size": [h, w], "counts": [h * w]}  # uncompressed COCO RLE: one run of background


def frame_size(references: Any) -> tuple[int, int]:
    return tuple(references.masks(references.ids[0]).shape[1:])


def json_entry(benchmark: str, references: Any) -> dict:
    """One valid per-sample JSON entry."""
    if benchmark == "ave":
        return {"labels": [0] * 10}
    if benchmark == "llp":
        return {"global_prob": [0.5] * 25, "frame_prob": np.full((10, 2, 25), 0.5).tolist()}
    if benchmark == "vggss":
        return {"heatmaps": [[0.0, 1.0], [0.5, 0.25]]}
    if benchmark == "avqa":
        return {"answer": "two"}
    h, w = frame_size(references)
    if benchmark == "avss":
        return {"masks": [{"background": empty_rle(h, w)}] * references.frames}
    return {"masks": [empty_rle(h, w)] * references.frames}


def envelope(benchmark: str, references: Any) -> dict:
    entry = json_entry(benchmark, references)
    return {"benchmark": benchmark, "predictions": {sid: entry for sid in references.ids}}


def npz_arrays(benchmark: str, references: Any) -> dict[str, np.ndarray]:
    """Valid payload arrays (ids included) for an NPZ file."""
    n = len(references.ids)
    ids = np.array(references.ids)
    if benchmark == "ave":
        return {"ids": ids, "labels": np.zeros((n, 10), np.int64)}
    if benchmark == "llp":
        return {"ids": ids, "global_prob": np.full((n, 25), 0.5), "frame_prob": np.full((n, 10, 2, 25), 0.5)}
    if benchmark == "vggss":
        return {"ids": ids, "heatmaps": np.random.default_rng(0).random((n, 4, 4)).astype(np.float32)}
    if benchmark == "avqa":
        return {"ids": ids, "answers": np.array(["two"] * n)}
    h, w = frame_size(references)
    if benchmark == "avss":
        return {"ids": ids, "labels": np.zeros((n, references.frames, h, w), np.uint8)}
    return {"ids": ids, "probs": np.zeros((n, references.frames, h, w), np.float32)}


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc))
    return path


def write_npz(path: Path, compressed: bool = False, **arrays: np.ndarray) -> Path:
    with open(path, "wb") as f:
        (np.savez_compressed if compressed else np.savez)(f, **arrays)
    return path


def write_payload(path: Path, benchmark_id: str, ids: list[str], payload: dict) -> Path:
    """A model's payload as its prediction file: NPZ (ids + arrays) or, for MUSIC-AVQA, the JSON
    envelope (docs/predictions.md)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if benchmark_id == "avqa":
        return write_json(path, {"benchmark": benchmark_id,
                                 "predictions": {sid: {"answer": a} for sid, a in zip(ids, payload["answers"])}})
    return write_npz(path, compressed=True, ids=np.asarray(ids), benchmark=np.asarray(benchmark_id), **payload)
