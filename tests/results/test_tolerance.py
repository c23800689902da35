"""The three tolerance tiers and the status of a cell."""

from __future__ import annotations

import dataclasses

import pytest

from avu import BENCHMARK_IDS
from avu.results.compare import Cell, Measurement, Status, compare, protocol_base
from avu.results.load import MetricStats, OursResult, PublishedEntry
from avu.results.tolerance import oracle_tolerance, ours_tolerance, published_tolerance

from .conftest import PROVENANCE


def entry(value="78.7", scale="percent", metric="accuracy", benchmark="ave", protocol="unknown",
          annotation_version="official") -> PublishedEntry:
    decimals = len(value.split(".")[1]) if "." in value else 0
    percent = float(value) * (100 if scale == "fraction" else 1)
    return PublishedEntry(benchmark, f"m/{metric}", "M", "V", 2026, metric, metric, value, scale, percent, decimals,
                          "s", "KEY", "text", "secondary", protocol, annotation_version)


def real(value, std=None, n=1, protocol="ave_argmax.v1", annotation_version="official", data="real"):
    return Measurement(value, std, n, data, protocol, annotation_version, "joint")


def pub_cell(ours, e=None, **kw):
    e = e or entry()
    return Cell(e.benchmark, e.metric, "published", ours, published=e, **kw)


def test_every_tolerance_has_a_rationale(refs):
    tiers = refs.tolerances.tiers
    assert set(tiers) == {"oracle", "ours", "published"}
    for name, tier in tiers.items():
        assert len(tier["rationale"]) >= 20, name
        assert set(tier["benchmarks"]) == set(BENCHMARK_IDS), name
        for b, body in tier["benchmarks"].items():
            assert len(body["rationale"]) >= 20, (name, b)
            for m, sub in body.get("metrics", {}).items():
                assert len(sub["rationale"]) >= 20, (name, b, m)


# -- published tier --------------------------------------------------------------------------
def test_half_unit_of_last_printed_decimal():
    assert entry("78.7").half_unit == pytest.approx(0.05)
    assert entry("75.80").half_unit == pytest.approx(0.005)
    assert entry("72").half_unit == pytest.approx(0.5)
    assert entry("0.879", "fraction", "fscore", "avs_s4").half_unit == pytest.approx(0.05)
    assert entry("0.42", "fraction", "auc", "vggss").half_unit == pytest.approx(0.5)


def test_published_tolerance_is_rounding_plus_margin(refs):
    tol = published_tolerance(refs.tolerances, entry("78.7"))
    margin = refs.tolerances.benchmark("published", "ave")["margin"]
    assert tol.value == pytest.approx(0.05 + margin)
    assert "0.05 rounding of '78.7'" in tol.basis


@pytest.mark.avqa
def test_avqa_question_types_have_their_own_margin(refs):
    overall = published_tolerance(refs.tolerances, entry("77.62", metric="overall", benchmark="avqa"))
    counting = published_tolerance(refs.tolerances, entry("72.23", metric="audio_counting", benchmark="avqa"))
    assert counting.value > overall.value
    assert "misaligns the types" in counting.rationale


@pytest.fixture
def no_margin(refs):
    """The committed tolerances with the AVE published margin set to 0 (rounding only)."""
    tiers = {k: dict(v) for k, v in refs.tolerances.tiers.items()}
    tiers["published"] = {**tiers["published"], "benchmarks": {
        **tiers["published"]["benchmarks"], "ave": {"margin": 0.0, "rationale": "rounding only, for the test"}}}
    return dataclasses.replace(refs.tolerances, tiers=tiers)


@pytest.mark.parametrize("value, status", [
    (78.7, Status.PASS), (78.65, Status.PASS), (78.75, Status.PASS),  # the rounding interval, inclusive
    (78.7501, Status.FAIL), (78.6499, Status.FAIL), (80.0, Status.FAIL),
])
def test_rounding_half_unit_boundary(no_margin, value, status):
    result = compare(pub_cell(real(value)), no_margin)
    assert result.status is status
    assert result.delta == pytest.approx(value - 78.7)


def test_margin_widens_the_interval(refs):
    margin = refs.tolerances.benchmark("published", "ave")["margin"]
    assert compare(pub_cell(real(78.7 + margin + 0.05)), refs.tolerances).status is Status.PASS
    assert compare(pub_cell(real(78.7 - margin - 0.06)), refs.tolerances).status is Status.FAIL


def test_generated_numbers_are_never_compared_with_published(refs):
    result = compare(pub_cell(real(78.7, data="generated")), refs.tolerances)
    assert result.status is Status.GENERATED and result.delta is None and result.tolerance is None
    assert result.status.value == "generated: not comparable"


def test_protocol_and_annotation_mismatch_are_not_comparable(refs):
    e = entry(protocol="ave_event_gate")
    assert compare(pub_cell(real(78.7), e), refs.tolerances).status is Status.NOT_COMPARABLE
    e = entry(protocol="ave_argmax")
    assert compare(pub_cell(real(78.7), e), refs.tolerances).status is Status.PASS
    e = dataclasses.replace(entry(benchmark="llp", metric="segment_audio"), annotation_version="2020")
    mismatch = compare(pub_cell(real(78.7, protocol="avvp_official.v1", annotation_version="2024-04"), e),
                       refs.tolerances)
    assert mismatch.status is Status.NOT_COMPARABLE and "annotation version" in mismatch.reason


def test_unknown_published_protocol_is_compared_with_a_note(refs):
    result = compare(pub_cell(real(78.7)), refs.tolerances)
    assert result.status is Status.PASS and "published protocol unknown" in result.reason


def test_missing_sides_are_na(refs):
    assert compare(pub_cell(None), refs.tolerances).status is Status.NA
    assert compare(Cell("ave", "accuracy", "published", real(78.7)), refs.tolerances).status is Status.NA


def test_expected_failure_is_strict(refs):
    assert compare(pub_cell(real(60.0), expected_failure="different backbone"), refs.tolerances).status is Status.XFAIL
    passing = compare(pub_cell(real(78.7), expected_failure="different backbone"), refs.tolerances)
    assert passing.status is Status.FAIL and "remove the mark" in passing.reason


def test_protocol_base():
    assert protocol_base("avsbench_v1[batch_size=4].v1") == "avsbench_v1"
    assert protocol_base("ave_argmax.v2") == "ave_argmax"
    assert protocol_base("avss_v1") == "avss_v1"


# -- ours tier -------------------------------------------------------------------------------
def pinned(values, data="real", floor_benchmark="ave"):
    return OursResult.from_seed_runs(floor_benchmark, "joint", {i: {"accuracy": v} for i, v in enumerate(values)},
                                     protocol="ave_argmax.v1", annotation_version="official",
                                     provenance={**PROVENANCE, "data": data})


def test_ours_tolerance_is_k_std(refs):
    p = pinned([70.0, 71.0, 72.0])  # std 1.0
    k = refs.tolerances.tier("ours")["k_std"]
    tol = ours_tolerance(refs.tolerances, "ave", p.metrics["accuracy"])
    assert tol.value == pytest.approx(k * 1.0)
    cell = Cell("ave", "accuracy", "ours", real(71.0 + k), pinned=p)
    assert compare(cell, refs.tolerances).status is Status.PASS
    cell = Cell("ave", "accuracy", "ours", real(71.0 + k + 0.01), pinned=p)
    assert compare(cell, refs.tolerances).status is Status.FAIL


def test_ours_tolerance_floor(refs):
    tiers = {k: dict(v) for k, v in refs.tolerances.tiers.items()}
    tiers["ours"] = {**tiers["ours"], "benchmarks": {**tiers["ours"]["benchmarks"],
                                                     "ave": {"min_abs": 0.5, "measured": "test", "rationale": "x" * 20}}}
    tolerances = dataclasses.replace(refs.tolerances, tiers=tiers)
    tight = pinned([70.0, 70.01, 70.02])
    assert ours_tolerance(tolerances, "ave", tight.metrics["accuracy"]).value == pytest.approx(0.5)
    one_seed = pinned([70.0])
    assert ours_tolerance(tolerances, "ave", one_seed.metrics["accuracy"]).value == pytest.approx(0.5)


def test_ours_without_spread_or_floor_is_na(refs):
    p = pinned([70.0])
    assert refs.tolerances.benchmark("ours", "ave")["min_abs"] is None
    result = compare(Cell("ave", "accuracy", "ours", real(70.0), pinned=p), refs.tolerances)
    assert result.status is Status.NA and "no tolerance yet" in result.reason


def test_ours_compares_like_with_like(refs):
    p = pinned([70.0, 71.0, 72.0], data="generated")
    result = compare(Cell("ave", "accuracy", "ours", real(71.0), pinned=p), refs.tolerances)
    assert result.status is Status.NOT_COMPARABLE and "data differs" in result.reason
    same = compare(Cell("ave", "accuracy", "ours", real(71.0, data="generated"), pinned=p), refs.tolerances)
    assert same.status is Status.PASS


def test_metric_stats_are_sample_statistics():
    s = MetricStats.of([1.0, 2.0, 3.0, 4.0])
    assert s.mean == 2.5 and s.std == pytest.approx(1.2909944487358056)
    assert MetricStats.of([5.0]).std is None
    with pytest.raises(ValueError):
        MetricStats.of([1.0, float("nan")])


# -- oracle tier -----------------------------------------------------------------------------
@pytest.mark.parametrize("bench, tol", [("ave", 1e-9), ("llp", 1e-9), ("avqa", 1e-9),
                                            ("avs_s4", 1e-6), ("avs_ms3", 1e-6), ("avss", 1e-6)])
def test_oracle_tolerances(refs, bench, tol):
    assert oracle_tolerance(refs.tolerances, bench).value == tol
    ok = Cell(bench, "m", "oracle", real(0.5 + tol * 0.9), official=0.5)
    bad = Cell(bench, "m", "oracle", real(0.5 + tol * 1.5), official=0.5)
    assert compare(ok, refs.tolerances).status is Status.PASS
    assert compare(bad, refs.tolerances).status is Status.FAIL


def test_unknown_tier_is_refused(refs):
    with pytest.raises(ValueError, match="unknown tier"):
        compare(Cell("ave", "accuracy", "vibes", real(1.0)), refs.tolerances)
