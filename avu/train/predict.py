"""Predict a split, write the prediction file, evaluate through the avu evaluators.

Samples are cut into batches of ``eval_batch_size`` in the split's canonical order, and
the batches are dealt to processes round-robin. Each sample is therefore always predicted
in the same batch, so its prediction (and the evaluation) does not depend on the number
of processes. The evaluator gathers per-sample records from all processes; rank 0 also
gathers the payloads and writes the prediction file in the documented format (NPZ with
``ids``, ``benchmark`` and the payload keys; MUSIC-AVQA: the JSON envelope).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from tqdm import tqdm

from avu import fileio
from avu.benchmarks import dataset_dir, get_spec
from avu.train import distributed as D
from avu.train.batches import to_device
from avu.train.data import TaskData


def prediction_path(run_dir: Path, task: str, split: str) -> Path:
    suffix = ".json" if task == "avqa" else ".npz"
    return run_dir / "predictions" / f"{task}-{split}{suffix}"


def load_references(task: str, root: str | Path, split: str):
    spec = get_spec(task)
    return spec.load_references(dataset_dir(root, task), split=split, version=spec.default_annotation_version)


def model_batch(model: torch.nn.Module, data: TaskData, index: list[int], device: torch.device) -> dict[str, Any]:
    """Samples ``index`` of a task's data as the model reads them: collated, with the prompt's word ids, on ``device``."""
    batch = data.batch(index, model.codec.pad)
    batch["text"] = model.text_ids(data.task, batch.get("questions"), len(index))
    return to_device(batch, device)


def predict_batches(model: torch.nn.Module, data: TaskData, batch_size: int, info: D.DistInfo,
                    amp: bool = False, progress: bool = True):
    """Yield (ids, payload) for this process's batches."""
    n = len(data)
    starts = list(range(0, n, batch_size))[info.rank::info.world]
    bar = tqdm(starts, desc=f"predict {data.task}/{data.split}", unit="batch", disable=not (progress and info.main),
               leave=False)
    for start in bar:
        batch = model_batch(model, data, list(range(start, min(start + batch_size, n))), info.device)
        with torch.autocast(device_type=info.device.type, dtype=torch.bfloat16, enabled=amp):
            payload = model.predict(batch)
        yield batch["ids"], payload


def _concat(pieces: list[tuple[list[str], dict[str, Any]]], order: list[str]) -> tuple[list[str], dict[str, Any]]:
    ids = [sid for part_ids, _ in pieces for sid in part_ids]
    position = {sid: i for i, sid in enumerate(ids)}
    keep = [position[sid] for sid in order if sid in position]
    out: dict[str, Any] = {}
    for key in pieces[0][1]:
        values = [p[1][key] for p in pieces]
        if isinstance(values[0], np.ndarray):
            out[key] = np.concatenate(values)[keep]
        else:
            flat = [v for part in values for v in part]
            out[key] = [flat[i] for i in keep]
    return [ids[i] for i in keep], out


def write_predictions(path: Path, task: str, ids: list[str], payload: Mapping[str, Any]) -> None:
    if path.suffix == ".json":
        per_sample = {sid: {k: (v[i].tolist() if isinstance(v, np.ndarray) else v[i]) for k, v in payload.items()}
                      for i, sid in enumerate(ids)}
        fileio.write_text(path, json.dumps({"benchmark": task, "predictions": per_sample}, indent=1) + "\n")
        return
    with fileio.atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, ids=np.asarray(ids), benchmark=np.asarray(task), **payload)


def evaluate_task(model: torch.nn.Module, data: TaskData, root: str | Path, run_dir: Path | None, info: D.DistInfo,
                  batch_size: int, *, amp: bool = False, write: bool = True, progress: bool = True) -> dict[str, Any]:
    """Evaluate one split; returns the result document (rank 0) with the prediction file path."""
    references = load_references(data.task, root, data.split)
    spec = get_spec(data.task)
    evaluator = spec.evaluator(references)
    pieces = []
    for ids, payload in predict_batches(model, data, batch_size, info, amp=amp, progress=progress):
        evaluator.update(ids, payload)
        if write:
            pieces.append((list(ids), payload))
    result = evaluator.compute()
    doc: dict[str, Any] = {**result.to_dict(), "references": references.describe()}
    if result.provenance:  # e.g. the OpenCV of VGG-SS
        doc["provenance"] = result.provenance
    if write and run_dir is not None:
        gathered = D.all_gather_object(pieces, info)
        if info.main:
            ids, payload = _concat([p for part in gathered for p in part], list(references.ids))
            path = prediction_path(run_dir, data.task, data.split)
            write_predictions(path, data.task, ids, payload)
            from avu.provenance import sha256_file

            doc["predictions"] = {"path": str(path), "sha256": sha256_file(path)}
        D.barrier(info)
    return doc
