"""Cached model inputs of one (benchmark, split): log-mel, resized uint8 frames, targets.

The datasets (avu.data.datasets) decode media; this layer turns every item once into what
the model consumes at its geometry (log-mel through the model's own front end, frames at
the model's input size, codec tokens, guidance and mask targets) and saves it under
``paths.cache`` keyed by everything that changes it. Training epochs then only index
tensors: no decoding, no resizing, no token encoding.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from tqdm import tqdm

from avu import fileio
from avu.benchmarks import dataset_dir
from avu.codec import FRAMES
from avu.data.annotations.common import SUITE_MARKER
from avu.provenance import sha256_json
from avu.train.batches import collate
from avu.train.targets import train_targets

#: bump when the cached layout or its arithmetic (avu.train.targets included) changes
CACHE_VERSION = 6


@dataclass
class TaskData:
    """Model inputs (and, for training splits, targets) of one benchmark split, in memory."""

    task: str
    split: str
    ids: list[str]
    inputs: dict[str, torch.Tensor]
    targets: list[dict[str, Any]] | None = None
    questions: list[str] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def batch(self, index: Sequence[int], pad: int) -> dict[str, Any]:
        """A collated batch of the samples at ``index`` (CPU tensors)."""
        index = [int(i) for i in index]
        samples = []
        for i in index:
            s: dict[str, Any] = {"id": self.ids[i]}
            if self.targets is not None:
                s.update(self.targets[i])
            if self.questions is not None:
                s["question"] = self.questions[i]
            samples.append(s)
        batch = collate(self.task, samples, pad)
        idx = torch.as_tensor(index, dtype=torch.long)
        for key, tensor in self.inputs.items():
            batch[key] = tensor.index_select(0, idx)
        return batch


def suite_fingerprint(root: Path) -> str:
    """Identity of a data root: the generated suite's marker, else the root's path and mtime."""
    marker = Path(root) / SUITE_MARKER
    if marker.is_file():
        info = json.loads(marker.read_text())
        return str(info.get("files_sha256") or sha256_json(info))
    p = Path(root).resolve()
    return sha256_json({"root": str(p), "mtime": p.stat().st_mtime if p.exists() else None})


def cache_key(task: str, split: str, root: Path, geometry: Mapping[str, Any], codec_info: Mapping[str, Any],
              mode: str, frame_size: int, with_targets: bool) -> str:
    return sha256_json({
        "version": CACHE_VERSION, "task": task, "split": split, "data": suite_fingerprint(root),
        "geometry": dict(geometry), "codec": dict(codec_info) if with_targets else None,
        "mode": mode, "frame_size": frame_size,
    })[:20]


def _resize_uint8(frames: torch.Tensor, size: int) -> torch.Tensor:
    """(N, T, 3, H, W) float in [0, 1] -> (N, T, 3, size, size) uint8 (area downsampling)."""
    from avu.model.visual import resize_frames

    x = resize_frames(frames.float(), size)
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


def build_task_data(task: str, split: str, model: Any, data_cfg: Mapping[str, Any], cache_dir: str | Path | None,
                    *, with_targets: bool, progress: bool = True, rank: int = 0, world: int = 1) -> TaskData:
    """Cached `TaskData` for the model's geometry; rank 0 builds it, the others wait and load."""
    root = Path(data_cfg["root"])
    mode = str(data_cfg["mode"])
    frame_size = int(data_cfg["frame_size"])
    geo = model.geometry()
    key = cache_key(task, split, root, geo, model.codec.describe(), mode, frame_size, with_targets)
    path = Path(cache_dir) / f"{task}-{split}-{key}.pt" if cache_dir else None
    if path is not None and rank == 0 and not path.is_file():
        data = _build(task, split, model, root, mode, frame_size, with_targets, progress)
        with fileio.atomic_path(path) as tmp:
            torch.save(_to_state(data), tmp)
    if world > 1:
        torch.distributed.barrier()
    if path is not None:
        return _from_state(torch.load(path, weights_only=False))
    return _build(task, split, model, root, mode, frame_size, with_targets, progress)


def _to_state(d: TaskData) -> dict[str, Any]:
    return {"task": d.task, "split": d.split, "ids": d.ids, "inputs": d.inputs, "targets": d.targets,
            "questions": d.questions, "info": d.info}


def _from_state(s: Mapping[str, Any]) -> TaskData:
    return TaskData(**s)


def _build(task: str, split: str, model: Any, root: Path, mode: str, frame_size: int, with_targets: bool,
           progress: bool) -> TaskData:
    from avu.data.datasets import build_dataset
    from avu.data.datasets import collate as data_collate

    geo = model.geometry()
    ds = build_dataset(task, root, split, frame_size=frame_size, mode=mode, progress=progress)
    T = FRAMES[task]
    ids: list[str] = []
    targets: list[dict[str, Any]] = []
    questions: list[str] = []
    chunks: dict[str, list[torch.Tensor]] = {}
    loader = torch.utils.data.DataLoader(ds, batch_size=16, shuffle=False, num_workers=0, collate_fn=data_collate)
    bar = tqdm(loader, desc=f"model inputs {task}/{split}", unit="batch", disable=not progress, leave=False)
    for items in bar:
        n = len(items["sample_id"])
        ids += [str(s) for s in items["sample_id"]]
        if mode == "features":
            chunks.setdefault("audio_feat", []).append(torch.as_tensor(items["audio_feat"]).half())
            chunks.setdefault("visual_feat", []).append(torch.as_tensor(items["visual_feat"]).half())
        else:
            with torch.no_grad():
                wave = torch.as_tensor(items["audio"]).float()
                mel = model.audio_frontend(wave, segments=T)
            chunks.setdefault("audio", []).append(mel.half())
            chunks.setdefault("frames", []).append(_resize_uint8(torch.as_tensor(items["frames"]), geo["frame"]))
        for i in range(n):
            target = {k: _item(v, i) for k, v in items["target"].items()}
            if task == "avqa":
                questions.append(str(target.get("question", "")))
            if with_targets:
                targets.append(train_targets(task, target, model.codec, geo))
    inputs = {k: torch.cat(v) for k, v in chunks.items()}
    return TaskData(task, split, ids, inputs, targets if with_targets else None,
                    questions if task == "avqa" else None,
                    {"root": str(root), "dataset_dir": str(dataset_dir(root, task)), "mode": mode})


def _item(value: Any, i: int) -> Any:
    if isinstance(value, torch.Tensor):
        return value[i].numpy()
    if isinstance(value, (list, tuple)):
        return value[i]
    return value


def cache_dir_for(cfg: Mapping[str, Any]) -> Path | None:
    path = cfg["paths"]["cache"]
    if not path:
        return None
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path if os.access(path, os.W_OK) else None
