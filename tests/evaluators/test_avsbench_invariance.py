"""AVSBench results do not depend on the caller's batch size, sample order or process count:
for dataset_v1 and avss_v1 by construction, and for avsbench_v1 too, because the official
batches are re-formed from per-video records in canonical order."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from avu.data.annotations.avsbench import references_from_arrays
from avu.evaluators.avsbench import AvssEvaluator, S4Evaluator
from tests.helpers.invariance import BATCH_SIZES, LAUNCHES, run_batched, run_distributed

pytestmark = [pytest.mark.avs_s4, pytest.mark.avs_ms3, pytest.mark.avss]

N_VIDEOS, SIZE = 12, 32
BINARY_PROTOCOLS = ("avsbench_v1", "avsbench_v1[batch_size=1]", "avsbench_v1[batch_size=5]", "dataset_v1")


def _split(seed: int = 0):
    """12 videos x 5 frames x 32x32 for S4 and the same ids x 10 frames for AVSS."""
    rng = np.random.default_rng(seed)
    ids = [f"vid{i:02d}" for i in range(N_VIDEOS)]
    masks = (rng.random((N_VIDEOS, 5, SIZE, SIZE)) < 0.3).astype(np.uint8)
    masks[3] = 0  # all-empty video
    masks[5, 1] = 0
    logits = (rng.normal(size=masks.shape) + 2 * masks - 1).astype(np.float32)
    gt = rng.choice([0, 0, 4, 17, 70], size=(N_VIDEOS, 10, SIZE, SIZE)).astype(np.uint8)
    gt[::3, 5:] = 0  # v1-style padding
    labels = np.where(rng.random(gt.shape) < 0.6, gt, rng.choice([0, 4, 9], size=gt.shape)).astype(np.uint8)
    s4 = references_from_arrays("avs_s4", ids, masks)
    avss = references_from_arrays("avss", ids, gt)
    return s4, avss, {"logits": logits, "labels": labels}


class _AllProtocols:
    """One stream of updates feeding every AVSBench protocol (keeps the process spawns few)."""

    def __init__(self, s4_refs, avss_refs):
        self.binary = [S4Evaluator(s4_refs, protocol=p) for p in BINARY_PROTOCOLS]
        self.avss = AvssEvaluator(avss_refs)

    def update(self, ids, payload):
        for ev in self.binary:
            ev.update(ids, {"logits": payload["logits"]})
        self.avss.update(ids, {"labels": payload["labels"]})

    def compute(self):
        return [_summary(ev.compute()) for ev in (*self.binary, self.avss)]


def _summary(result):
    return result.protocol["name"], result.metrics, result.extras, result.counts, result.partial


def test_batch_size_and_order_invariance():
    s4, avss, payload = _split()
    factory = functools.partial(_AllProtocols, s4, avss)
    baseline = run_batched(factory, s4.ids, payload, batch_size=N_VIDEOS)
    names = [b[0] for b in baseline]
    assert names == [*BINARY_PROTOCOLS, "avss_v1"]
    # the protocols really differ: batching changes F under avsbench_v1
    assert len({b[1]["fscore"] for b in baseline[:4]}) == 4
    for batch_size in (1, 2, 7):
        for seed in (None, batch_size):
            assert run_batched(factory, s4.ids, payload, batch_size, seed=seed) == baseline, (batch_size, seed)


@pytest.mark.distributed
@pytest.mark.parametrize("world, launch", LAUNCHES)
def test_process_count_invariance(world: int, launch: str):
    s4, avss, payload = _split(seed=1)
    factory = functools.partial(_AllProtocols, s4, avss)
    baseline = run_batched(factory, s4.ids, payload, batch_size=N_VIDEOS)
    results = run_distributed(factory, s4.ids, payload, world, launch)
    assert results == [[baseline] * len(BATCH_SIZES)] * world
