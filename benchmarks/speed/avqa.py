"""MUSIC-AVQA evaluator speed: fast evaluator vs the per-question oracle, full-size random test split.

Run: ``python benchmarks/speed/avqa.py`` (or through ``benchmarks/speed/run_all.py``).
9,129 random questions (the json_update test size) held in memory; the fast path is the
whole accumulating evaluator (construction, update, compute), the oracle is
``tests/oracles/avqa.py`` (the official batch-size-1 loop, type parsed per question).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # tests.oracles

from avu.data.annotations.avqa import ANSWER_VOCAB, QUESTION_TYPES, make_references  # noqa: E402
from avu.evaluators.avqa import AvqaEvaluator  # noqa: E402
from tests.oracles import avqa as oracle  # noqa: E402

N_TEST = 9129


def best_time(fn: Callable[[], dict], repeats: int) -> tuple[float, dict]:
    """(fastest wall time of ``repeats`` calls, the value returned)."""
    best, value = float("inf"), {}
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def run(seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    n = N_TEST
    types = rng.integers(0, len(QUESTION_TYPES), n)
    answers = rng.choice(ANSWER_VOCAB, n).tolist()
    refs = make_references(rng.permutation(10 * n)[:n], [f"{i:08d}" for i in range(n)], types, answers)
    preds = [a if rng.random() < 0.7 else str(rng.choice(ANSWER_VOCAB)) for a in answers]
    payload = {"answers": preds}
    # the official code reads raw json rows: type as a list literal string, answer under "anser"
    rows = [{"type": json.dumps(list(QUESTION_TYPES[t])), "anser": a} for t, a in zip(types, answers)]

    def fast() -> dict:
        ev = AvqaEvaluator(refs)
        ev.update(refs.ids, payload)
        return ev.compute().metrics

    fast_s, fast_value = best_time(fast, repeats=20)
    oracle_s, oracle_value = best_time(lambda: oracle.official_test(rows, preds), repeats=3)
    if fast_value.keys() != oracle_value.keys() or any(abs(fast_value[k] - oracle_value[k]) > 1e-9 for k in fast_value):
        raise AssertionError(f"avqa: fast {fast_value} != oracle {oracle_value}")
    return [{"name": "avqa/avqa_pooled", "n": n, "fast_s": fast_s, "oracle_s": oracle_s, "ratio": oracle_s / fast_s}]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:24s} n={row['n']:5d}  fast {row['fast_s'] * 1e3:8.2f} ms  "
              f"oracle {row['oracle_s'] * 1e3:8.2f} ms  {row['ratio']:6.1f}x")
