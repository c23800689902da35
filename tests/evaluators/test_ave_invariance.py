"""AVE results do not depend on batch size, sample order or process count."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from avu.data.annotations.ave import make_references
from avu.evaluators.ave import AveEvaluator
from tests.helpers.invariance import BATCH_SIZES, LAUNCHES, run_batched, run_distributed

pytestmark = pytest.mark.ave

PROTOCOLS = ("ave_argmax", "ave_event_gate")


def _split(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    video_ids = [f"vid{i % (n - 3):03d}" for i in range(n)]  # a few repeated videos -> "#2" ids
    starts = rng.integers(0, 11, n)
    ends = np.minimum(starts + rng.integers(0, 11, n), 10)
    refs = make_references(video_ids, rng.integers(0, 28, n), starts, ends)
    payload = {
        "scores": rng.normal(size=(n, 10, 29)),
        "is_event": rng.normal(size=(n, 10)).astype(np.float32),
        "event_scores": rng.normal(size=(n, 28)),
    }
    return refs, payload


def _summary(result):
    return result.metrics, result.extras, result.counts, result.partial


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_batch_size_and_order_invariance(protocol: str) -> None:
    refs, payload = _split(45)
    factory = functools.partial(AveEvaluator, refs, protocol)
    baseline = run_batched(factory, refs.ids, payload, batch_size=len(refs.ids))
    for batch_size in (1, 2, 7):
        for seed in (None, batch_size):
            assert _summary(run_batched(factory, refs.ids, payload, batch_size, seed=seed)) == _summary(baseline)


@pytest.mark.distributed
@pytest.mark.parametrize("world, launch", LAUNCHES)
def test_process_count_invariance(world: int, launch: str) -> None:
    # the gathering does not depend on the protocol; one protocol keeps the spawns few
    refs, payload = _split(30, seed=1)
    factory = functools.partial(AveEvaluator, refs, "ave_event_gate")
    baseline = _summary(run_batched(factory, refs.ids, payload, batch_size=30))
    results = run_distributed(factory, refs.ids, payload, world, launch)
    assert [[_summary(r) for r in rank] for rank in results] == [[baseline] * len(BATCH_SIZES)] * world
