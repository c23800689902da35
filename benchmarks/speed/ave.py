"""AVE evaluator speed: fast evaluator vs the per-segment oracle, on a full-size random test split.

Run: ``python benchmarks/speed/ave.py`` (or through ``benchmarks/speed/run_all.py``).
Both protocols are timed on 402 random videos held in memory (nothing is read from disk
in the timed part); the fast path is the whole accumulating evaluator (construction,
update, compute), the oracle is ``tests/oracles/ave.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # tests.oracles

from avu.data.annotations.ave import make_references  # noqa: E402
from avu.evaluators.ave import AveEvaluator  # noqa: E402
from tests.oracles import ave as oracle  # noqa: E402

N_TEST = 402


def best_time(fn: Callable[[], float], repeats: int) -> tuple[float, float]:
    """(fastest wall time of ``repeats`` calls, the value returned)."""
    best, value = float("inf"), float("nan")
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def run(seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    n = N_TEST
    starts = rng.integers(0, 11, n)
    ends = np.minimum(starts + rng.integers(0, 11, n), 10)
    refs = make_references([f"video{i:04d}" for i in range(n)], rng.integers(0, 28, n), starts, ends)
    one_hot = refs.one_hot()  # the official code receives one-hot labels
    scores = rng.normal(size=(n, 10, 29)).astype(np.float32)
    is_event = rng.normal(size=(n, 10))
    event_scores = rng.normal(size=(n, 28))

    def fast(protocol: str, payload: dict) -> Callable[[], float]:
        def go() -> float:
            ev = AveEvaluator(refs, protocol)
            ev.update(refs.ids, payload)
            return ev.compute().metrics["accuracy"]
        return go

    cases = [
        ("ave/ave_argmax", fast("ave_argmax", {"scores": scores}),
         lambda: 100.0 * oracle.compute_acc(one_hot, scores)),
        ("ave/ave_event_gate", fast("ave_event_gate", {"is_event": is_event, "event_scores": event_scores}),
         lambda: oracle.compute_accuracy_supervised(one_hot, is_event, event_scores)),
    ]
    rows = []
    for name, fast_fn, slow_fn in cases:
        fast_s, fast_value = best_time(fast_fn, repeats=20)
        oracle_s, oracle_value = best_time(slow_fn, repeats=3)
        if abs(fast_value - oracle_value) > 1e-9:
            raise AssertionError(f"{name}: fast {fast_value} != oracle {oracle_value}")
        rows.append({"name": name, "n": n, "fast_s": fast_s, "oracle_s": oracle_s, "ratio": oracle_s / fast_s})
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:24s} n={row['n']:5d}  fast {row['fast_s'] * 1e3:8.2f} ms  "
              f"oracle {row['oracle_s'] * 1e3:8.2f} ms  {row['ratio']:6.1f}x")
