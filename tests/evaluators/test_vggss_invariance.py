"""VGG-SS results do not depend on batch size, sample order or process count."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from avu.data.annotations.vggss import load_references
from avu.evaluators.vggss import VggssEvaluator
from tests.helpers.invariance import BATCH_SIZES, LAUNCHES, run_batched, run_distributed

pytestmark = pytest.mark.vggss

N_SAMPLES = 20
EMPTY_GT_ID = "MKC9LvRivTM_000030"


@pytest.fixture(scope="module")
def case(datasets_dir: Path):
    full = load_references(datasets_dir / "vggss")
    # the empty-GT clip, multi-box clips and plain ones
    multi = [s for s, c in zip(full.ids, full.box_counts) if c >= 3][:4]
    ids = [EMPTY_GT_ID, *multi]
    ids += [s for s in full.ids if s not in ids][: N_SAMPLES - len(ids)]
    references = full.subset(ids)
    rng = np.random.default_rng(2024)
    heatmaps = rng.standard_normal((N_SAMPLES, 14, 14)).astype(np.float32)
    heatmaps[0] = -1.0  # constant: LVS selects nothing -> 0/0 on the empty GT
    heatmaps[5] = np.round(heatmaps[5])
    for i in range(6, N_SAMPLES, 3):  # a few good localisations, so scores are not all 0
        box = references.pixel_boxes[i, 0] // 16
        heatmaps[i, box[1]:box[3] + 1, box[0]:box[2] + 1] += 3.0
    return references, {"heatmaps": heatmaps}


def baseline(references, payload, protocol: str):
    factory = functools.partial(VggssEvaluator, references, protocol)
    return factory, run_batched(factory, references.ids, payload, batch_size=N_SAMPLES)


@pytest.mark.parametrize("protocol", ["ezvsl", "lvs"])
def test_subset_baseline_is_not_trivial(case, protocol: str) -> None:
    references, payload = case
    _, result = baseline(references, payload, protocol)
    assert result.counts["evaluated"] == N_SAMPLES and not result.partial
    assert 0 < result.metrics["ciou_ap50"] < 100 and 0 < result.metrics["auc"] < 100
    assert result.extras["samples_nan_ciou"] == (1 if protocol == "lvs" else 0)


@pytest.mark.parametrize("protocol", ["ezvsl", "lvs"])
@pytest.mark.parametrize("batch_size", [1, 2, 7])
@pytest.mark.parametrize("seed", [None, 11])
def test_batch_size_and_order_invariance(case, protocol: str, batch_size: int, seed) -> None:
    references, payload = case
    factory, expected = baseline(references, payload, protocol)
    result = run_batched(factory, references.ids, payload, batch_size=batch_size, seed=seed)
    assert result.to_dict() == expected.to_dict()


@pytest.mark.distributed
@pytest.mark.parametrize("world, launch", LAUNCHES)
def test_process_count_invariance(case, world: int, launch: str) -> None:
    references, payload = case
    factory, expected = baseline(references, payload, "ezvsl")
    results = run_distributed(factory, references.ids, payload, world, launch)
    assert [[r.to_dict() for r in rank] for rank in results] == [[expected.to_dict()] * len(BATCH_SIZES)] * world
