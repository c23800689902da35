"""Generate the whole suite: parallel over clips, deterministic, atomic.

Every clip is drawn from its own generator seeded by (seed, benchmark, split, index),
so the result does not depend on the number of workers or their scheduling; the
annotation files are written by the parent from the records in a fixed order. The
suite is built in a temporary sibling directory and moved into place when complete.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

import avu
from avu import BENCHMARK_IDS, fileio
from avu.data.annotations.common import SUITE_MARKER
from avu.data.synth import GENERATOR_VERSION
from avu.data.synth.writers import writer
from avu.data.synth.writers.common import SPLITS, Job, Knobs
from avu.errors import AvuInputError
from avu.provenance import sha256_file

#: clips per (train, val, test) split for each size. AVSS test needs >= 28 clips so that its
#: 1..4 sounding objects per clip cover all 70 classes (the official mIoU averages all 71).
#: Small: AVE, LLP and VGG-SS score 240 / 240 / 400 test clips (generator 2.1; 60 / 60 / 100
#: before), so that one clip moves their metric by well under a point and the spread over
#: seeds measures training, not which few clips a seed happened to get right (docs/design.md).
#: Each clip has its own seed, so the added test clips leave every other clip unchanged.
SIZES: dict[str, dict[str, tuple[int, int, int]]] = {
    "tiny": {
        "ave": (8, 4, 6), "llp": (8, 4, 6), "vggss": (8, 4, 8), "avs_s4": (8, 4, 6),
        "avs_ms3": (6, 4, 6), "avss": (6, 4, 28), "avqa": (8, 4, 6),
    },
    "small": {
        "ave": (240, 40, 240), "llp": (240, 40, 240), "vggss": (300, 50, 400), "avs_s4": (240, 40, 60),
        "avs_ms3": (160, 30, 40), "avss": (320, 40, 60), "avqa": (200, 40, 60),
    },
    "full": {
        "ave": (1600, 200, 402), "llp": (1600, 200, 400), "vggss": (2000, 200, 500), "avs_s4": (1600, 200, 400),
        "avs_ms3": (800, 100, 160), "avss": (1600, 200, 400), "avqa": (1200, 150, 300),
    },
}
FILE_LIST = "avu_suite_files.sha256"
CACHE_DIR = ".avu_cache"


def _run_job(job: Job) -> dict:
    return writer(job.benchmark).clip(job)


def _jobs(root: Path, size: str, seed: int, benchmarks: list[str], frame_size: int, sample_rate: int, knobs: Knobs):
    jobs = []
    for b in benchmarks:
        for split, n in zip(SPLITS, SIZES[size][b]):
            jobs += [Job(b, split, i, n, seed, str(root), frame_size, sample_rate, knobs) for i in range(n)]
    return jobs


def suite_files(root: Path) -> list[Path]:
    """Every generated file (sorted), excluding the suite's own records and caches."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != CACHE_DIR and not d.startswith("."))
        for name in sorted(filenames):
            if name in (SUITE_MARKER, FILE_LIST) or name.startswith("."):
                continue
            out.append(Path(dirpath) / name)
    return sorted(out, key=lambda p: p.relative_to(root).as_posix())


def stale_reason(root: str | Path) -> str | None:
    """Why the generated suite at ``root`` is not what this avu generates (None: current, or not one).

    A suite avu generated is a cache of the generator: another generator version, or clip
    counts that are not its size's, mean it must be generated again. Real data (no marker,
    or another generator) is never judged here.
    """
    marker = Path(root) / SUITE_MARKER
    if not marker.is_file():
        return None
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError):
        return f"unreadable {SUITE_MARKER}"
    if not isinstance(info, dict) or info.get("generator") != "avu.data.synth":
        return None
    if info.get("generator_version") != GENERATOR_VERSION:
        return f"generator {info.get('generator_version')}, this avu generates {GENERATOR_VERSION}"
    expected = SIZES.get(str(info.get("size")), {})
    for b, clips in (info.get("clips") or {}).items():
        if b in expected and clips != dict(zip(SPLITS, expected[b])):
            return f"{b} has {clips} clips, size {info.get('size')} now has {dict(zip(SPLITS, expected[b]))}"
    return None


def generate(out: str | Path, size: str = "small", seed: int = 0, benchmarks: list[str] | None = None,
             workers: int | None = None, frame_size: int = 224, sample_rate: int = 16000,
             knobs: Knobs | None = None, progress: bool = True) -> dict:
    """Write the suite to ``out`` (replacing it atomically); returns the ``avu_suite.json`` content."""
    if size not in SIZES:
        raise AvuInputError(None, "--size", f"unknown size {size!r}; known: {', '.join(SIZES)}")
    benchmarks = list(BENCHMARK_IDS) if not benchmarks else list(benchmarks)
    for b in benchmarks:
        if b not in BENCHMARK_IDS:
            raise AvuInputError(None, "--benchmarks", f"unknown benchmark {b!r}; known: {', '.join(BENCHMARK_IDS)}")
    benchmarks = [b for b in BENCHMARK_IDS if b in benchmarks]  # canonical order
    knobs = knobs or Knobs()
    workers = max(1, workers if workers is not None else min(os.cpu_count() or 1, 8))
    t0 = time.perf_counter()
    with fileio.atomic_dir(out) as tmp:
        jobs = _jobs(tmp, size, seed, benchmarks, frame_size, sample_rate, knobs)
        bar = tqdm(total=len(jobs), desc=f"avu data synth ({size})", unit="clip", disable=not progress, file=sys.stderr)
        results = []
        if workers == 1:
            for job in jobs:
                results.append(_run_job(job))
                bar.update()
        else:
            ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
            with ctx.Pool(workers) as pool:
                for rec in pool.imap(_run_job, jobs, chunksize=4):
                    results.append(rec)
                    bar.update()
        bar.close()
        # records grouped per writer module, then per benchmark and split, in job order
        records: dict[str, dict[str, dict[str, list[dict]]]] = {}
        counts: dict[str, dict[str, int]] = {}
        for job, rec in zip(jobs, results):
            mod = writer(job.benchmark).__name__
            records.setdefault(mod, {}).setdefault(job.benchmark, {s: [] for s in SPLITS})[job.split].append(rec)
        for mod, recs in records.items():
            sample_counts = writer(next(iter(recs))).finish(tmp, recs)
            for b in recs:
                counts[b] = (sample_counts or {}).get(b) or {s: len(recs[b][s]) for s in SPLITS}
        files = suite_files(tmp)
        listing = "".join(f"{sha256_file(p)}  {p.relative_to(tmp).as_posix()}\n" for p in files)
        fileio.write_text(tmp / FILE_LIST, listing)
        info = {
            "generator": "avu.data.synth",
            "generator_version": GENERATOR_VERSION,
            "avu_version": avu.__version__,
            "size": size,
            "seed": seed,
            "frame_size": frame_size,
            "sample_rate": sample_rate,
            "benchmarks": benchmarks,
            "knobs": knobs.__dict__,
            "clips": {b: dict(zip(SPLITS, SIZES[size][b])) for b in benchmarks},
            "counts": counts,
            "n_files": len(files),
            "files_sha256": sha256_text(listing),
        }
        fileio.write_json(tmp / SUITE_MARKER, info)
    info_out = dict(info)
    info_out["seconds"] = round(time.perf_counter() - t0, 2)
    return info_out


def sha256_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()
