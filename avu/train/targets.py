"""Dataset targets -> what the model trains on, at the model's geometry (numpy, per sample).

- ``tokens``: the codec sequence of the form the model emits;
- ``guide``: (T, g, g) fraction of each patch covered by the sounding object(s), the
  target of the guidance map (VGG-SS boxes, AVSBench masks);
- ``mask_target``: (T, m, m) soft binary masks (S4/MS3) or majority-class maps (AVSS) at
  the mask head's resolution;
- ``video_labels``: LLP weak labels;
- ``segment_target``: per-segment classes for the auxiliary segment classifier (AVE labels,
  AVSS classes present per frame);
- ``world_target``: (T, W) the world categories (avu.data.world) sounding and visible in each
  segment, for the world-category loss that every labelled task shares (``model.loss.world``):
  AVE events, AVSS classes per frame, the VGG-SS class and the S4 category in every segment;
  LLP: its weak labels in every segment (the loss pools LLP over time). MS3 and MUSIC-AVQA
  name no sounding category.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Mapping

import numpy as np

from avu.codec import FRAMES, TokenCodec
from avu.codec import primitives as P
from avu.data import world


def _frames_fraction(masks: np.ndarray, side: int) -> np.ndarray:
    return np.stack([P.pool_fraction(m > 0, side) for m in masks]).astype(np.float32)


def train_targets(task: str, target: Mapping[str, Any], codec: TokenCodec, geometry: Mapping[str, Any]) -> dict[str, Any]:
    """Model-side targets of one training sample."""
    g, m = int(geometry["grid"]), int(geometry["mask"])
    out: dict[str, Any] = {"tokens": np.asarray(codec.encode(task, target), dtype=np.int64)}
    if task == "ave":
        out["segment_target"] = np.asarray(target["labels"], dtype=np.int64).reshape(-1)
    elif task == "llp":
        out["video_labels"] = np.asarray(target["video_labels"], dtype=np.float32).reshape(-1)
    elif task == "vggss":
        gt_map = target.get("gt_map")
        if gt_map is None:
            gt_map = P.boxes_to_map(np.asarray(target["boxes"]).reshape(-1, 4))
        out["guide"] = _frames_fraction(np.asarray(gt_map)[None], g)
        out["mask_target"] = _frames_fraction(np.asarray(gt_map)[None], m)
    elif task in ("avs_s4", "avs_ms3"):
        masks = np.asarray(target["masks"])
        out["guide"] = _frames_fraction(masks, g)
        out["mask_target"] = _frames_fraction(masks, m)
    elif task == "avss":
        labels = np.asarray(target["labels"])
        out["guide"] = _frames_fraction(labels > 0, g)
        out["mask_target"] = np.stack([P.label_grid(f, m, len(codec.classes.avss) + 1) for f in labels])
        n = len(codec.classes.avss)
        present = np.zeros((labels.shape[0], n), dtype=np.float32)
        for k, frame in enumerate(labels):
            cls = np.unique(frame)
            cls = cls[(cls > 0) & (cls <= n)]
            present[k, cls - 1] = 1.0
        out["segment_target"] = present
    categories = world_categories(task, target, codec)
    if categories is not None:
        out["world_target"] = categories
    if "mask_valid" in target:
        valid = np.asarray(target["mask_valid"], dtype=bool)
        out["mask_valid"] = valid
        if not valid.all():
            # partially annotated (official S4 train: frame 1 only): the presence tokens
            # would claim the other frames are empty, so the sample carries no token target
            out["tokens"] = np.asarray([out["tokens"][0], codec.pad], dtype=np.int64)
    return out


@cache
def _category_index() -> dict[str, int]:
    return {c: i for i, c in enumerate(world.categories())}


@cache
def _world_index(benchmark: str, names: tuple[str, ...]) -> np.ndarray:
    """Per class of a benchmark's list: its world category index (-1: none)."""
    index = _category_index()
    mapping = world.class_map(benchmark)
    return np.asarray([index[mapping[n]] if n in mapping else -1 for n in names], dtype=np.int64)


def world_categories(task: str, target: Mapping[str, Any], codec: TokenCodec) -> np.ndarray | None:
    """(T, W) float multi-hot of the world categories sounding in each segment, or None where
    the task names none (MS3, MUSIC-AVQA) or the sample carries no class (features datasets)."""
    W, T = len(world.categories()), FRAMES[task]
    out = np.zeros((T, W), dtype=np.float32)
    if task == "ave":
        labels = np.asarray(target["labels"]).reshape(-1)
        index = _world_index("ave", tuple(codec.classes.ave))
        for t, c in enumerate(labels):
            if 0 <= c < len(index) and index[c] >= 0:
                out[t, index[c]] = 1.0
    elif task == "llp":  # weak: the video's labels, pooled over time by the loss
        index = _world_index("llp", tuple(codec.classes.llp))
        for c in np.flatnonzero(np.asarray(target["video_labels"]).reshape(-1) > 0.5):
            if index[c] >= 0:
                out[:, index[c]] = 1.0
    elif task in ("vggss", "avs_s4") and "class" in target:
        mapping = world.class_map(task)
        name = str(target["class"])
        if name not in mapping:
            return None
        out[:, _category_index()[mapping[name]]] = 1.0
    elif task == "avss":
        index = _world_index("avss", tuple(codec.classes.avss))
        for t, frame in enumerate(np.asarray(target["labels"])):
            for c in np.unique(frame):
                if 0 < c <= len(index) and index[c - 1] >= 0:
                    out[t, index[c - 1]] = 1.0
    else:
        return None
    return out


def random_target(task: str, codec: TokenCodec, rng: np.random.Generator) -> dict[str, Any]:
    """A plausible random target of ``task`` in the dataset's normalised format (for example
    batches and tests)."""
    T = FRAMES[task]
    if task == "ave":
        labels = np.full(T, len(codec.classes.ave), dtype=np.int64)
        s = int(rng.integers(0, T))
        labels[s:int(rng.integers(s + 1, T + 1))] = int(rng.integers(0, len(codec.classes.ave)))
        return {"labels": labels}
    if task == "llp":
        video = np.zeros(len(codec.classes.llp), dtype=np.float32)
        video[rng.choice(len(video), size=int(rng.integers(1, 4)), replace=False)] = 1
        return {"video_labels": video}
    if task == "vggss":
        xy = np.sort(rng.uniform(0, 1, size=(int(rng.integers(1, 3)), 2, 2)), axis=1)
        boxes = np.stack([xy[:, 0, 0], xy[:, 0, 1], xy[:, 1, 0], xy[:, 1, 1]], axis=1).astype(np.float32)
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 0.05).clip(max=1.0)
        return {"boxes": boxes}
    if task in ("avs_s4", "avs_ms3", "avss"):
        out = np.zeros((T, 224, 224), dtype=np.uint8)
        for f in range(T):
            y, x = rng.integers(0, 160, size=2)
            value = 1 if task != "avss" else int(rng.integers(1, len(codec.classes.avss) + 1))
            out[f, y:y + int(rng.integers(16, 64)), x:x + int(rng.integers(16, 64))] = value
        return {"labels": out} if task == "avss" else {"masks": out}
    if task == "avqa":
        answer = codec.classes.ans[int(rng.integers(0, len(codec.classes.ans)))]
        return {"answer": answer, "question": "how many instruments are sounding in the video"}
    raise ValueError(task)
