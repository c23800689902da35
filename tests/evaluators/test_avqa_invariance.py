"""MUSIC-AVQA results do not depend on batch size, sample order or process count."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from avu.data.annotations.avqa import ANSWER_VOCAB, make_references
from avu.evaluators.avqa import AvqaEvaluator
from tests.helpers.invariance import BATCH_SIZES, LAUNCHES, run_batched, run_distributed

pytestmark = pytest.mark.avqa


def _split(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    question_ids = [i % (n - 4) for i in range(n)]  # repeated question ids -> "#2" ids, as in the json version
    answers = rng.choice(ANSWER_VOCAB, n).tolist()
    refs = make_references(question_ids, [f"{i:08d}" for i in range(n)], rng.integers(0, 9, n), answers,
                           annotation_version="json")
    preds = [a if rng.random() < 0.5 else str(rng.choice(ANSWER_VOCAB)) for a in answers]
    return refs, {"answers": preds}


def _summary(result):
    return result.metrics, result.extras, result.counts, result.partial


def test_batch_size_and_order_invariance() -> None:
    refs, payload = _split(60)
    factory = functools.partial(AvqaEvaluator, refs)
    baseline = _summary(run_batched(factory, refs.ids, payload, batch_size=len(refs.ids)))
    for batch_size in (1, 2, 7):
        for seed in (None, batch_size):
            assert _summary(run_batched(factory, refs.ids, payload, batch_size, seed=seed)) == baseline


@pytest.mark.distributed
@pytest.mark.parametrize("world, launch", LAUNCHES)
def test_process_count_invariance(world: int, launch: str) -> None:
    refs, payload = _split(35, seed=1)
    factory = functools.partial(AvqaEvaluator, refs)
    baseline = _summary(run_batched(factory, refs.ids, payload, batch_size=35))
    results = run_distributed(factory, refs.ids, payload, world, launch)
    assert [[_summary(r) for r in rank] for rank in results] == [[baseline] * len(BATCH_SIZES)] * world
