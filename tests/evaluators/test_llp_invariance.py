"""LLP results do not depend on batch size, sample order or process count."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import pytest

from avu.data.annotations.llp import LlpReferences, load_references
from avu.evaluators.llp import LlpEvaluator
from tests.helpers.invariance import BATCH_SIZES, LAUNCHES, run_batched, run_distributed

pytestmark = pytest.mark.llp

N_VIDEOS = 30


def subset(references: LlpReferences, n: int) -> LlpReferences:
    """The first ``n`` videos of a split, as a split of its own (small enough to pickle around)."""
    return dataclasses.replace(
        references, ids=references.ids[:n], weak_labels=references.weak_labels[:n],
        gt_audio=references.gt_audio[:n], gt_visual=references.gt_visual[:n],
    )


@pytest.fixture(scope="module")
def case(datasets_dir: Path):
    references = subset(load_references(datasets_dir / "avvp", "val"), N_VIDEOS)
    rng = np.random.default_rng(2024)
    global_prob = rng.random((N_VIDEOS, 25))
    frame_prob = rng.random((N_VIDEOS, 10, 2, 25))
    # a few videos predicted perfectly, so scores span 0..1
    for i in range(0, N_VIDEOS, 4):
        global_prob[i] = np.maximum(references.gt_audio[i], references.gt_visual[i]).max(axis=1)
        frame_prob[i, :, 0] = references.gt_audio[i].T
        frame_prob[i, :, 1] = references.gt_visual[i].T
    payload = {"global_prob": global_prob, "frame_prob": frame_prob}
    # picklable, module-level factory for the spawned processes
    factory = functools.partial(LlpEvaluator, references)
    baseline = run_batched(factory, references.ids, payload, batch_size=N_VIDEOS)
    return references, payload, factory, baseline


def test_subset_baseline_is_not_trivial(case) -> None:
    _, _, _, baseline = case
    assert baseline.counts["evaluated"] == N_VIDEOS and not baseline.partial
    assert 0 < baseline.metrics["segment_audio"] < 100 and 0 < baseline.metrics["event_visual"] < 100


@pytest.mark.parametrize("batch_size", [1, 2, 7])
@pytest.mark.parametrize("seed", [None, 11])
def test_batch_size_and_order_invariance(case, batch_size: int, seed) -> None:
    references, payload, factory, baseline = case
    result = run_batched(factory, references.ids, payload, batch_size=batch_size, seed=seed)
    assert result.to_dict() == baseline.to_dict()


@pytest.mark.distributed
@pytest.mark.parametrize("world, launch", LAUNCHES)
def test_process_count_invariance(case, world: int, launch: str) -> None:
    references, payload, factory, baseline = case
    results = run_distributed(factory, references.ids, payload, world, launch)
    assert [[r.to_dict() for r in rank] for rank in results] == [[baseline.to_dict()] * len(BATCH_SIZES)] * world
