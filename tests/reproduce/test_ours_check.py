"""The main job's "ours" check: a re-run of a pinned seed on the pinned platform must equal it
exactly; a changed model default fails through the config hash; elsewhere the seed mean is held
to the tolerance."""

from __future__ import annotations

from pathlib import Path

import pytest

from avu import BENCHMARK_IDS
from avu.reproduce import plan
from avu.reproduce.cli import config_drift
from avu.reproduce.runner import Settings, compose_config, config_hash
from avu.results import ReferenceResults, Status, check_against_pinned
from avu.results.load import OursResult


def _rerun(pinned: OursResult, seed_values: dict[int, float], **provenance) -> OursResult:
    metric = next(iter(pinned.metrics))
    return OursResult.from_seed_runs(pinned.benchmark, pinned.configuration, {s: {metric: v} for s, v in seed_values.items()},
                                     protocol=pinned.protocol, annotation_version=pinned.annotation_version,
                                     provenance={**pinned.provenance, **provenance})


@pytest.fixture(scope="module")
def refs():
    return ReferenceResults()


@pytest.fixture(scope="module")
def pinned(refs):
    result = refs.ours("ave", "joint", "generated")
    assert result is not None and len(result.seeds) >= 3, "the main job's joint result is pinned with 3 seeds"
    return result


def _hash(*overrides: str) -> str:
    spec = plan.runs_for(["joint"], list(BENCHMARK_IDS), [0])[0]
    settings = Settings(None, Path("data/generated/small"), "small", Path("runs"), tuple(overrides))
    return config_hash(compose_config(spec, settings))


def test_the_pinned_config_hash_is_todays_default(pinned):
    # a default changed without re-pinning shows up here before anyone trains
    assert _hash() == pinned.provenance["config_hash"]


def test_a_changed_model_default_fails_the_ours_check(refs, pinned):
    changed = _rerun(pinned, {0: pinned.metrics[next(iter(pinned.metrics))].values[0]},
                     config_hash=_hash("model.d_model=96"))
    failures = [c for c in config_drift({("ave", "joint"): changed}, refs) if c.failed]
    assert failures and "config hash" in failures[0].reason


def test_a_pinned_seed_rerun_on_the_pinned_platform_is_compared_exactly(refs, pinned):
    metric = next(iter(pinned.metrics))
    value = dict(zip(pinned.seeds, pinned.metrics[metric].values))[0]
    same = check_against_pinned([_rerun(pinned, {0: value})], refs)
    assert [c.status for c in same] == [Status.PASS] and "exactly" in same[0].reason
    off = check_against_pinned([_rerun(pinned, {0: value + 1e-9})], refs)
    assert [c.status for c in off] == [Status.FAIL] and "not reproduced exactly" in off[0].reason


def test_on_another_platform_the_mean_is_held_to_the_tolerance(refs, pinned):
    metric = next(iter(pinned.metrics))
    value = pinned.metrics[metric].mean
    other = _rerun(pinned, {0: value + 1e-3}, platform="another machine")
    result = check_against_pinned([other], refs)
    assert [c.status for c in result] == [Status.PASS] and "exactly" not in result[0].reason
    far = _rerun(pinned, {0: value + 50.0}, platform="another machine")
    assert [c.status for c in check_against_pinned([far], refs)] == [Status.FAIL]
