"""Per-sample rows, details and pictures of one benchmark's runs (one or two, side by side).

The work is cut into chunks of ``CHUNK`` samples in the split's canonical order; a chunk is
computed and drawn in a worker process (fork: the runs are inherited, never pickled) and
returns its list rows and its detail records. A chunk's details become one data page of
the site (``explore/data/<benchmark>/d<chunk>.js``), loaded only when a sample of it is opened.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avu.explore import images, persample
from avu.explore.inputs import Scored

CHUNK = 100

#: frames shown per clip in the event and QA timelines
STRIP_FRAMES = 10


@dataclass
class Job:
    benchmark: str
    runs: list[Scored]
    #: canonical order of the first run's ids
    ids: list[str]
    #: sample id -> frame files (None: black padding frame)
    frames: dict[str, list[Path | None]]
    #: site folder being written (the temporary one)
    site: Path
    #: avqa: video -> index of its first question (that chunk draws the video's strip)
    first_of_video: dict[str, int]
    #: the site folder's name as index.html links it (``site`` is its temporary twin)
    prefix: str = "explore"


_JOBS: dict[str, Job] = {}


def frame_files(benchmark: str, root: Path, split: str) -> dict[str, list[Path | None]]:
    """Frame files of every sample, through the dataset layer's media layout."""
    from avu.data.datasets.base import frame_files as files_of
    from avu.data.datasets.raw import specs_for

    specs, _, _ = specs_for(benchmark, root, split)
    return {s.sample_id: files_of(s.media) for s in specs}


def prepare(benchmark: str, runs: list[Scored], site: Path, prefix: str) -> Job:
    first = runs[0]
    ids = [sid for sid, _, _ in persample.canonical(first.references, first.ids)]
    root = first.data_root if first.data_root is not None else _root_of(first)
    frames = frame_files(benchmark, root, first.result.split)
    first_of_video: dict[str, int] = {}
    if benchmark == "avqa":
        refs = first.references
        for i, sid in enumerate(ids):
            first_of_video.setdefault(refs.video_ids[refs.index(sid)], i)
    job = Job(benchmark, runs, ids, frames, site, first_of_video, prefix)
    _JOBS[benchmark] = job
    return job


def _root_of(run: Scored) -> Path:
    """The data root above a dataset folder given with --annotations."""
    from avu.benchmarks import DATASET_DIRS

    folder = Path(run.references.root or ".")
    for p in (folder, *folder.parents):
        if p.name == DATASET_DIRS[run.benchmark]:
            return p.parent
    return folder.parent


def n_chunks(job: Job) -> int:
    return (len(job.ids) + CHUNK - 1) // CHUNK


@dataclass(frozen=True)
class Failed:
    """A worker's bad-input error, as plain fields (AvuInputError does not survive pickling)."""

    path: str | None
    where: str | None
    reason: str


def run_chunk_or_failure(benchmark: str, k: int) -> tuple[list[dict], dict[str, Any]] | Failed:
    from avu.errors import AvuInputError

    try:
        return run_chunk(benchmark, k)
    except AvuInputError as exc:
        return Failed(exc.path, exc.where, exc.reason)


def run_chunk(benchmark: str, k: int) -> tuple[list[dict], dict[str, Any]]:
    """Rows and details of chunk ``k`` (pictures written as a side effect)."""
    try:
        import torch

        torch.set_num_threads(1)  # a worker per core: intra-op threads would only contend
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    job = _JOBS[benchmark]
    chunk_ids = job.ids[k * CHUNK:(k + 1) * CHUNK]
    per_run: list[dict[str, persample.Sample]] = []
    for run in job.runs:
        position = {sid: p for p, sid in enumerate(run.ids)}
        mine = [sid for sid in chunk_ids if sid in position]
        payload = persample.take(run.payload, [position[s] for s in mine])
        per_run.append({s.id: s for s in persample.samples(benchmark, run.evaluator, mine, payload)})
    rows, details = [], {}
    for offset, sid in enumerate(chunk_ids):
        i = k * CHUNK + offset
        found = [r.get(sid) for r in per_run]
        truth = next(s.truth for s in found if s is not None)
        pictures = _draw(job, i, sid, found, truth)
        rows.append({
            "i": i, "id": sid, "c": truth.get("classes", []), "t": truth.get("type"),
            "m": [None if s is None else s.metric for s in found],
            "ok": [None if s is None else s.ok for s in found],
            "thumb": pictures.pop("thumb"),
        })
        details[str(i)] = {"truth": truth, "runs": [None if s is None else {**s.detail, "metric": s.metric, "ok": s.ok}
                                                    for s in found], "img": pictures}
    return rows, details


# ----------------------------------------------------------------------------- pictures

def _rel(job: Job, path: Path) -> str:
    return f"{job.prefix}/{path.relative_to(job.site).as_posix()}"


def _save(job: Job, path: Path, rgb: np.ndarray) -> str:
    images.write(path, rgb)
    return _rel(job, path)


def _draw(job: Job, i: int, sid: str, found: list, truth: dict) -> dict[str, Any]:
    folder = job.site / "img" / job.benchmark / str(i)
    files = job.frames.get(sid, [])
    b = job.benchmark
    if b in ("avs_s4", "avs_ms3", "avss"):
        return _draw_segmentation(job, folder, files, found, semantic=b == "avss")
    if b == "vggss":
        return _draw_localisation(job, folder, files, found, truth)
    return _draw_clip(job, i, sid, folder, files)


def _draw_segmentation(job: Job, folder: Path, files: list, found: list, semantic: bool) -> dict[str, Any]:
    ref = next(s for s in found if s is not None)
    gt = ref.layers["gt"]
    out: dict[str, Any] = {"frames": []}
    thumb = None
    for t in range(len(gt)):
        path = files[t] if t < len(files) else None
        base = images.frame(path)
        cell: dict[str, Any] = {"runs": []}
        if semantic:
            cell["gt"] = _save(job, folder / f"f{t}_gt.jpg", images.semantic_overlay(base.copy(), gt[t]))
        for r, s in enumerate(found):
            if s is None:
                cell["runs"].append(None)
                continue
            pred = s.layers["pred"][t]
            rgb = images.semantic_overlay(base.copy(), pred) if semantic else \
                images.binary_overlay(base.copy(), gt[t], pred)
            cell["runs"].append(_save(job, folder / f"f{t}_r{r}.jpg", rgb))
            if thumb is None:
                thumb = rgb
        out["frames"].append(cell)
    out["thumb"] = _save(job, folder / "thumb.jpg", images.thumbnail(thumb))
    return out


def _draw_localisation(job: Job, folder: Path, files: list, found: list, truth: dict) -> dict[str, Any]:
    base = images.frame(files[0] if files else None)
    out: dict[str, Any] = {"runs": []}
    thumb = None
    for r, s in enumerate(found):
        if s is None:
            out["runs"].append(None)
            continue
        heat = images.heat_overlay(base.copy(), s.layers["heat"], truth["boxes"], s.layers["gt"].shape[0])
        mask = images.binary_overlay(base.copy(), s.layers["gt"], s.layers["mask"])
        out["runs"].append({"heat": _save(job, folder / f"heat_r{r}.jpg", heat),
                            "mask": _save(job, folder / f"mask_r{r}.jpg", mask)})
        thumb = heat if thumb is None else thumb
    out["thumb"] = _save(job, folder / "thumb.jpg", images.thumbnail(thumb))
    return out


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _draw_clip(job: Job, i: int, sid: str, folder: Path, files: list) -> dict[str, Any]:
    """Events and QA: a strip of the clip's frames and a thumbnail of its middle frame."""
    if job.benchmark == "avqa":  # questions share videos: one strip per video
        refs = job.runs[0].references
        video = refs.video_ids[refs.index(sid)]
        target = job.site / "img" / "avqa" / "videos" / f"{_safe(video)}"
        strip_path, thumb_path = target / "strip.jpg", target / "thumb.jpg"
        if job.first_of_video[video] != i:  # another chunk (maybe another process) draws it
            return {"strip": _rel(job, strip_path), "thumb": _rel(job, thumb_path)}
    else:
        strip_path, thumb_path = folder / "strip.jpg", folder / "thumb.jpg"
    picked = files[:STRIP_FRAMES]
    frames = [images.frame(p) for p in picked] or [images.frame(None)]
    return {"strip": _save(job, strip_path, images.strip(frames)),
            "thumb": _save(job, thumb_path, images.thumbnail(frames[len(frames) // 2]))}


def workers(requested: int | None) -> int:
    return max(1, requested if requested else min(2, os.cpu_count() or 1))
