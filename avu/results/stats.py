"""Uncertainty: seed mean +- std, and paired-bootstrap intervals over test items.

The bootstrap resamples *test items* (videos, maps, questions) with replacement and
recomputes the metric through the evaluator's own ``reduce`` on the resampled records, so
the interval respects each benchmark's aggregation (per-video means, per-class mIoU, pooled
accuracies). For a paired comparison the same resample indices are applied to both systems.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from avu.evaluators.base import Evaluator


@dataclass(frozen=True)
class Interval:
    estimate: float
    lo: float
    hi: float
    n_resamples: int
    seed: int

    def as_dict(self) -> dict[str, float | int]:
        return {"estimate": self.estimate, "lo": self.lo, "hi": self.hi,
                "n_resamples": self.n_resamples, "seed": self.seed}


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0.0 for a single value)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("no values")
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0


def _records(evaluator: Evaluator) -> tuple[list[str], list]:
    if not hasattr(evaluator, "last_ids"):
        raise ValueError(f"{type(evaluator).__name__}: call compute() before bootstrapping")
    return evaluator.last_ids, evaluator.last_records


def _metric(evaluator: Evaluator, ids: list[str], records: list, metric: str) -> float:
    return float(evaluator.reduce(ids, records)[0][metric])


def paired_bootstrap(
    a: Evaluator, b: Evaluator, metric: str, n_resamples: int = 1000, seed: int = 0, alpha: float = 0.05,
) -> Interval:
    """Percentile interval of metric(b) - metric(a) over resampled test items (both computed)."""
    ids_a, rec_a = _records(a)
    ids_b, rec_b = _records(b)
    if ids_a != ids_b:
        raise ValueError("paired bootstrap needs both systems scored on the same items")
    n = len(ids_a)
    rng = np.random.default_rng(seed)
    deltas = np.empty(n_resamples)
    for i in range(n_resamples):
        idx = np.sort(rng.integers(0, n, n))  # sorted: keeps canonical order for order-aware protocols
        ids = [ids_a[j] for j in idx]
        deltas[i] = _metric(b, ids, [rec_b[j] for j in idx], metric) - _metric(a, ids, [rec_a[j] for j in idx], metric)
    estimate = _metric(b, ids_a, rec_b, metric) - _metric(a, ids_a, rec_a, metric)
    lo, hi = np.quantile(deltas, [alpha / 2, 1 - alpha / 2])
    return Interval(estimate, float(lo), float(hi), n_resamples, seed)


def bootstrap(evaluator: Evaluator, metric: str, n_resamples: int = 1000, seed: int = 0,
              alpha: float = 0.05) -> Interval:
    """Percentile interval of one system's metric over resampled test items."""
    ids, recs = _records(evaluator)
    rng = np.random.default_rng(seed)
    values = np.empty(n_resamples)
    for i in range(n_resamples):
        idx = np.sort(rng.integers(0, len(ids), len(ids)))
        values[i] = _metric(evaluator, [ids[j] for j in idx], [recs[j] for j in idx], metric)
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    est = _metric(evaluator, ids, recs, metric)
    return Interval(est, float(lo) if math.isfinite(lo) else lo, float(hi), n_resamples, seed)
