"""Paired bootstrap and seed statistics."""

from __future__ import annotations

import numpy as np
import pytest

from avu.data.annotations.ave import make_references
from avu.evaluators.ave import AveEvaluator
from avu.results.stats import bootstrap, mean_std, paired_bootstrap


def _scored(refs, labels):
    ev = AveEvaluator(refs)
    ev.update(refs.ids, {"labels": labels})
    ev.compute()
    return ev


@pytest.fixture()
def refs():
    rng = np.random.default_rng(0)
    n = 60
    return make_references([f"v{i}" for i in range(n)], rng.integers(0, 28, n), np.zeros(n, int), np.full(n, 10))


def test_mean_std():
    assert mean_std([1.0]) == (1.0, 0.0)
    m, s = mean_std([1.0, 2.0, 3.0])
    assert m == 2.0 and s == pytest.approx(1.0)
    with pytest.raises(ValueError):
        mean_std([])


def test_paired_bootstrap_detects_a_real_gap_and_not_a_null_one(refs):
    truth = refs.labels
    rng = np.random.default_rng(1)
    noisy = np.where(rng.random(truth.shape) < 0.5, truth, 28)
    better = np.where(rng.random(truth.shape) < 0.9, truth, 28)
    a, b = _scored(refs, noisy), _scored(refs, better)
    gap = paired_bootstrap(a, b, "accuracy", n_resamples=200, seed=3)
    assert gap.lo > 0 and gap.lo <= gap.estimate <= gap.hi
    same = paired_bootstrap(a, _scored(refs, noisy), "accuracy", n_resamples=200, seed=3)
    assert same.estimate == same.lo == same.hi == 0.0
    # seeded: identical intervals on a re-run
    assert paired_bootstrap(a, b, "accuracy", n_resamples=200, seed=3) == gap


def test_bootstrap_interval_contains_estimate(refs):
    ev = _scored(refs, np.where(np.random.default_rng(2).random(refs.labels.shape) < 0.7, refs.labels, 28))
    iv = bootstrap(ev, "accuracy", n_resamples=200)
    assert iv.lo < iv.estimate < iv.hi


def test_bootstrap_needs_compute(refs):
    with pytest.raises(ValueError, match="compute"):
        bootstrap(AveEvaluator(refs), "accuracy")
