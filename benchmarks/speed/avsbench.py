"""AVSBench evaluator speed: the accumulating evaluators vs the official loops re-expressed in
tests/oracles/avsbench.py (one frame and one threshold / class histogram at a time, float32 torch).

Full-size random test splits at 224x224: MS3 (64 videos x 5 frames) and S4 (740 x 5) in
``run()``; AVSS (1,554 x 10) in ``run_avss()``, printed by the script but outside the 20x target
(the official AVSS loop is already vectorised per frame). The fast side is timed on the whole split (``update`` in batches of 4 videos, then
``compute``; generating the random batches is not timed; beyond 64 distinct random videos the
content repeats, see `_time_fast`). Both sides run single-threaded (torch.set_num_threads(1)). The oracle is timed on the first
``ORACLE_VIDEOS`` videos and extrapolated linearly to the split (its cost is a fixed amount of
work per frame), which the ``oracle_videos`` key records.

Run: ``python benchmarks/speed/avsbench.py`` (or through ``benchmarks/speed/run_all.py``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from avu.data.annotations.avsbench import references_from_arrays  # noqa: E402
from avu.evaluators.avsbench import AvssEvaluator, MS3Evaluator, S4Evaluator  # noqa: E402
from tests.oracles import avsbench as oracle  # noqa: E402

SIZE = 224
BATCH = 4
ORACLE_VIDEOS = 8
#: distinct random videos generated per split (more are cycled through, see _time_fast)
POOL = 64


def _binary_batch(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Blob masks and logits that roughly follow them (``n`` videos x 5 frames)."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    masks = np.zeros((n, 5, SIZE, SIZE), np.uint8)
    centres = rng.integers(30, SIZE - 30, size=(n, 5, 2))
    radii = rng.integers(10, 70, size=(n, 5))
    for i in range(n):
        for f in range(5):
            cy, cx = centres[i, f]
            masks[i, f] = (yy - cy) ** 2 + (xx - cx) ** 2 < radii[i, f] ** 2
    masks[rng.random(n) < 0.1] = 0  # some silent videos: empty GT
    logits = (rng.normal(0, 2.0, size=masks.shape) + 4.0 * masks - 2.0).astype(np.float32)
    return logits, masks


def _semantic_batch(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    gt = np.zeros((n, 10, SIZE, SIZE), np.uint8)
    for i in range(n):
        classes = rng.integers(1, 71, size=2)
        gt[i, :, 40:140, 30:150] = classes[0]
        gt[i, :, 150:200, 100:220] = classes[1]
    pred = gt.copy()
    noise = rng.random(gt.shape) < 0.1
    pred[noise] = rng.integers(0, 71, size=int(noise.sum()), dtype=np.uint8)
    return pred, gt


def _time_fast(n_videos: int, make_batch: Callable, make_evaluator: Callable, key: str, seed: int) -> float:
    """Evaluator time over ``n_videos`` fed in batches of BATCH (building the batches excluded).

    Videos beyond the first POOL reuse the generated content cyclically (same work per frame,
    bounded memory: a 1,554-video AVSS split would otherwise need 1.6 GB of random masks).
    """
    rng = np.random.default_rng(seed)
    pool_pred, pool_gt = make_batch(rng, min(POOL, n_videos))
    ids = [f"v{i:05d}" for i in range(n_videos)]
    references = references_from_arrays(key, ids, [pool_gt[i % len(pool_gt)] for i in range(n_videos)])
    evaluator = make_evaluator(references)
    field = "labels" if key == "avss" else "logits"
    elapsed = 0.0
    for start in range(0, n_videos, BATCH):
        rows = [i % len(pool_pred) for i in range(start, min(start + BATCH, n_videos))]
        batch = {field: pool_pred[rows]}
        t0 = time.perf_counter()
        evaluator.update(ids[start:start + BATCH], batch)
        elapsed += time.perf_counter() - t0
    t0 = time.perf_counter()
    evaluator.compute()
    return elapsed + time.perf_counter() - t0


def _time_oracle(n_videos: int, make_batch: Callable, run_oracle: Callable, seed: int) -> tuple[float, int]:
    rng = np.random.default_rng(seed)
    k = min(ORACLE_VIDEOS, n_videos)
    pred, gt = make_batch(rng, k)
    t0 = time.perf_counter()
    run_oracle(pred, gt)
    return (time.perf_counter() - t0) * n_videos / k, k


BINARY_CASES = [
    ("avs_ms3 test (64 videos x 5 frames, avsbench_v1)", 64, "avs_ms3", _binary_batch, MS3Evaluator,
     lambda p, g: oracle.s4ms3_test(p, g, BATCH)),
    ("avs_s4 test (740 videos x 5 frames, avsbench_v1)", 740, "avs_s4", _binary_batch, S4Evaluator,
     lambda p, g: oracle.s4ms3_test(p, g, BATCH)),
]
#: AVSS is reported apart: its official loop is already vectorised per frame (three torch.histc
#: calls), so a numpy/torch re-implementation gains only a few times, not 20x (see run_avss)
AVSS_CASES = [
    ("avss test (1554 videos x 10 frames, avss_v1)", 1554, "avss", _semantic_batch, AvssEvaluator, oracle.avss_test),
]


def _single_threaded(cases: list, seed: int) -> list[dict]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a fair comparison on a shared machine: one core each
    try:
        rows = []
        for name, n, key, make_batch, evaluator, run_oracle in cases:
            fast = _time_fast(n, make_batch, evaluator, key, seed)
            slow, k = _time_oracle(n, make_batch, run_oracle, seed)
            rows.append({"name": name, "n": n, "fast_s": fast, "oracle_s": slow, "ratio": slow / fast,
                         "oracle_videos": k})
        return rows
    finally:
        torch.set_num_threads(threads)


def run(seed: int = 0) -> list[dict]:
    """Speed rows of S4 and MS3 (name, n, fast_s, oracle_s, ratio, oracle_videos), single-threaded."""
    return _single_threaded(BINARY_CASES, seed)


def run_avss(seed: int = 0) -> list[dict]:
    """The AVSS row (same keys); not part of the 20x target, see AVSS_CASES."""
    return _single_threaded(AVSS_CASES, seed)


if __name__ == "__main__":
    from tabulate import tabulate

    result = run() + run_avss()
    print(tabulate([[r["name"], r["n"], f"{r['fast_s']:.3f}", f"{r['oracle_s']:.2f}", f"{r['ratio']:.1f}x",
                     f"{r['oracle_videos']} videos, extrapolated"] for r in result],
                   headers=["evaluator", "videos", "fast (s)", "oracle (s)", "speed-up", "oracle timed on"],
                   tablefmt="github"))
