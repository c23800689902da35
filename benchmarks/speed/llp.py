"""LLP evaluator speed: the fast evaluator vs the slow per-video oracle (tests/oracles/llp.py).

Full-size test split: 1,200 videos with the real dense GT from ``../shared/datasets/avvp``
when present (else random GT of the same shape), random probabilities. Both sides score the
same inputs in this process and must agree. Run: ``python benchmarks/speed/llp.py``.
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

N_TEST = 1200


def _references(seed: int):
    from avu.data.annotations.llp import CLASSES, LlpReferences, load_references

    shared = Path(os.environ.get("AVU_SHARED", REPO.parent / "shared"))
    folder = shared / "datasets" / "avvp"
    if (folder / "AVVP_test_pd.csv").is_file():
        return load_references(folder, "test"), "real GT"
    rng = np.random.default_rng(seed + 1)
    active = rng.random((N_TEST, len(CLASSES), 1)) < 0.1
    gt_a = ((rng.random((N_TEST, len(CLASSES), 10)) < 0.6) & active).astype(np.uint8)
    gt_v = ((rng.random((N_TEST, len(CLASSES), 10)) < 0.6) & active).astype(np.uint8)
    ids = [f"random{i:04d}_0_10" for i in range(N_TEST)]
    refs = LlpReferences(benchmark="llp", split="test", ids=ids, annotation_version="random",
                         weak_labels=active[:, :, 0].astype(np.uint8), gt_audio=gt_a, gt_visual=gt_v)
    return refs, "random GT"


def run(seed: int = 0, repeats: int = 3) -> list[dict]:
    from avu.evaluators.llp import LlpEvaluator
    from tests.oracles import llp as oracle

    references, gt_kind = _references(seed)
    n = len(references)
    rng = np.random.default_rng(seed)
    payload = {"global_prob": rng.random((n, 25)), "frame_prob": rng.random((n, 10, 2, 25))}

    def fast() -> dict[str, float]:
        evaluator = LlpEvaluator(references)
        evaluator.update(references.ids, payload)
        return evaluator.compute().metrics

    fast()  # warm-up: builds the (cached) event look-up tables once per process
    fast_s = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fast_metrics = fast()
        fast_s = min(fast_s, time.perf_counter() - start)

    start = time.perf_counter()
    slow_metrics = oracle.evaluate(payload["global_prob"], payload["frame_prob"], references.gt_audio, references.gt_visual)
    oracle_s = time.perf_counter() - start

    worst = max(abs(fast_metrics[k] - slow_metrics[k]) for k in slow_metrics)
    if worst > 1e-9:
        raise AssertionError(f"fast and oracle LLP disagree by {worst}")
    return [{"name": f"llp ({gt_kind})", "n": n, "fast_s": fast_s, "oracle_s": oracle_s, "ratio": oracle_s / fast_s}]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: n={row['n']} fast={row['fast_s']:.4f}s oracle={row['oracle_s']:.2f}s "
              f"ratio={row['ratio']:.0f}x")
