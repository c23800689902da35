"""VGG-SS evaluator speed: the fast evaluator vs the slow per-sample oracle (tests/oracles/vggss.py).

Full-size test split: 5,158 random 14x14 heatmaps (seeded) scored against the real boxes of
``../shared/datasets/vggss`` when present (else random boxes of the same count), under both
protocols. The oracle runs the official per-sample loop; it is timed on an evenly spaced
subset (``oracle_subset`` samples) and extrapolated linearly to the full split, which is
fair because its cost is the same for every sample (say so in the row name). Fast and oracle
must agree exactly on that subset. Both sides run with one torch thread (``threads``), so
the comparison is of the two algorithms, not of how torch's thread pool copes with per-sample
calls on a busy machine. Run: ``python benchmarks/speed/vggss.py``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # the oracle lives in tests/oracles
    sys.path.insert(0, str(REPO))

N_TEST = 5158
SIDE = 14


def _references(seed: int):
    from avu.data.annotations.vggss import VggssReferences, load_references
    from avu.metrics.vggss import box_pixel_bounds

    shared = Path(os.environ.get("AVU_SHARED", REPO.parent / "shared"))
    folder = shared / "datasets" / "vggss"
    if (folder / "vggss.json").is_file():
        return load_references(folder), "real GT"
    rng = np.random.default_rng(seed + 1)
    lo = rng.random((N_TEST, 1, 2)) * 0.6
    boxes = np.concatenate([lo, lo + 0.1 + rng.random((N_TEST, 1, 2)) * 0.3], axis=2)
    refs = VggssReferences(
        benchmark="vggss", split="test", ids=[f"random{i:05d}_000000" for i in range(N_TEST)],
        annotation_version="random", classes=["random"] * N_TEST, boxes=list(boxes),
        pixel_boxes=box_pixel_bounds(boxes), box_counts=np.ones(N_TEST, dtype=np.int64),
    )
    return refs, "random GT"


def run(seed: int = 0, repeats: int = 3, oracle_subset: int = 516, threads: int | None = 1) -> list[dict]:
    import torch

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _run(seed, repeats, oracle_subset)
    finally:
        torch.set_num_threads(previous)


def _run(seed: int, repeats: int, oracle_subset: int) -> list[dict]:
    from avu.evaluators.vggss import VggssEvaluator
    from tests.oracles import vggss as oracle

    references, gt_kind = _references(seed)
    n = len(references)
    heatmaps = np.random.default_rng(seed).standard_normal((n, SIDE, SIDE)).astype(np.float32)
    payload = {"heatmaps": heatmaps}
    picked = np.linspace(0, n - 1, min(oracle_subset, n)).astype(int)
    rows = []
    for protocol in ("ezvsl", "lvs"):

        def fast() -> VggssEvaluator:
            evaluator = VggssEvaluator(references, protocol=protocol)
            evaluator.update(references.ids, payload)
            evaluator.compute()
            return evaluator

        evaluator = fast()  # warm-up (torch kernels, coefficient tables)
        fast_s = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            evaluator = fast()
            fast_s = min(fast_s, time.perf_counter() - start)

        start = time.perf_counter()
        slow = oracle.evaluate(heatmaps[picked], [references.boxes[i] for i in picked], protocol)
        oracle_s = (time.perf_counter() - start) * n / len(picked)

        fast_ciou = np.array([evaluator._records[references.ids[i]] for i in picked])
        if not np.array_equal(fast_ciou, slow["ciou"], equal_nan=True):
            raise AssertionError(f"fast and oracle VGG-SS ({protocol}) disagree on the timed subset")
        rows.append({
            "name": f"vggss {protocol} ({gt_kind}; oracle timed on {len(picked)} maps, x{n / len(picked):.1f})",
            "n": n, "fast_s": fast_s, "oracle_s": oracle_s, "ratio": oracle_s / fast_s,
        })
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: n={row['n']} fast={row['fast_s']:.3f}s oracle={row['oracle_s']:.2f}s "
              f"ratio={row['ratio']:.1f}x")
