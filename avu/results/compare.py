"""The status of one table cell: our number against its reference, in one tolerance tier.

``compare(cell, tolerances)`` returns a `Comparison` whose status is one of:

- ``pass`` / ``fail``: the difference is within / outside the tier's tolerance;
- ``expected fail``: outside, and the table row gives a written reason (strict: a marked
  cell that passes is reported as ``fail`` so the mark gets removed);
- ``n/a``: nothing to compare (no run, no published number, no tolerance yet);
- ``not comparable``: protocol, annotation version or data kind differ;
- ``generated: not comparable``: our number comes from the generated suite and the
  reference is a published (real-data) number; such pairs are never compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from avu.results.load import MetricStats, OursResult, PublishedEntry, Tolerances
from avu.results.tolerance import (
    Tolerance,
    oracle_tolerance,
    ours_tolerance,
    published_tolerance,
)


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    XFAIL = "expected fail"
    NA = "n/a"
    NOT_COMPARABLE = "not comparable"
    GENERATED = "generated: not comparable"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


def protocol_base(protocol: str | None) -> str | None:
    """``'avsbench_v1[batch_size=4].v1'`` -> ``'avsbench_v1'`` (name without parameters or version)."""
    if protocol is None:
        return None
    name = protocol.split("[", 1)[0]
    head, sep, tail = name.rpartition(".v")
    return head if sep and tail.isdigit() else name


@dataclass(frozen=True)
class Measurement:
    """Our value of one metric: mean over seeds (percent), with where it came from."""

    value: float
    std: float | None
    n_seeds: int
    data: str
    protocol: str | None
    annotation_version: str | None
    configuration: str | None = None
    origin: str = ""

    @classmethod
    def from_ours(cls, result: OursResult, metric: str) -> Measurement | None:
        stats = result.metrics.get(metric)
        if stats is None:
            return None
        return cls(stats.mean, stats.std, len(stats.values), result.data, result.protocol,
                   result.annotation_version, result.configuration,
                   str(result.path) if result.path else f"{result.benchmark}/{result.filename}")


@dataclass(frozen=True)
class Cell:
    """One comparison: ``ours`` against the reference of ``tier``.

    tier ``published`` uses ``published``; tier ``ours`` uses ``pinned``; tier ``oracle``
    uses ``official`` (and ``ours.value`` in the official code's units).
    """

    benchmark: str
    metric: str
    tier: str
    ours: Measurement | None
    published: PublishedEntry | None = None
    pinned: OursResult | None = None
    official: float | None = None
    expected_failure: str | None = None


@dataclass(frozen=True)
class Comparison:
    cell: Cell
    status: Status
    reference: float | None = None
    delta: float | None = None
    tolerance: Tolerance | None = None
    reason: str = ""

    @property
    def failed(self) -> bool:
        """True for the statuses that make a check fail (only ``fail``)."""
        return self.status is Status.FAIL

    def to_dict(self) -> dict[str, Any]:
        c = self.cell
        return {
            "benchmark": c.benchmark,
            "metric": c.metric,
            "tier": c.tier,
            "status": self.status.value,
            "ours": None if c.ours is None else {
                "value": c.ours.value, "std": c.ours.std, "n_seeds": c.ours.n_seeds, "data": c.ours.data,
                "protocol": c.ours.protocol, "annotation_version": c.ours.annotation_version,
                "configuration": c.ours.configuration, "origin": c.ours.origin,
            },
            "reference": self.reference,
            "delta": self.delta,
            "tolerance": None if self.tolerance is None else {
                "value": self.tolerance.value, "basis": self.tolerance.basis, "rationale": self.tolerance.rationale,
            },
            "published": None if c.published is None else {
                "id": c.published.id, "method": c.published.method, "value": c.published.value,
                "scale": c.published.scale, "value_percent": c.published.value_percent,
                "source": {"key": c.published.source_key, "text": c.published.source_text},
                "confidence": c.published.confidence, "protocol": c.published.protocol,
                "annotation_version": c.published.annotation_version, "notes": list(c.published.notes),
            },
            "expected_failure": c.expected_failure,
            "reason": self.reason,
        }


def _judge(cell: Cell, reference: float, tolerance: Tolerance, notes: list[str]) -> Comparison:
    assert cell.ours is not None
    delta = cell.ours.value - reference
    ok = tolerance.allows(delta)
    reason = "; ".join(notes)
    if cell.expected_failure:
        if ok:
            return Comparison(cell, Status.FAIL, reference, delta, tolerance,
                              "marked expected_failure but within tolerance: remove the mark"
                              + (f"; {reason}" if reason else ""))
        return Comparison(cell, Status.XFAIL, reference, delta, tolerance, cell.expected_failure)
    return Comparison(cell, Status.PASS if ok else Status.FAIL, reference, delta, tolerance, reason)


def _compare_published(cell: Cell, tolerances: Tolerances) -> Comparison:
    entry = cell.published
    if entry is None:
        return Comparison(cell, Status.NA, reason="no published number for this metric")
    if cell.ours is None:
        return Comparison(cell, Status.NA, entry.value_percent, reason="no run of ours")
    if cell.ours.data != "real":
        return Comparison(cell, Status.GENERATED, entry.value_percent,
                          reason="our number is from the generated suite; published numbers are on real data")
    if entry.metric != cell.metric or entry.benchmark != cell.benchmark:
        raise ValueError(f"published entry {entry.benchmark}/{entry.id} is not {cell.benchmark}/{cell.metric}")
    notes: list[str] = []
    if entry.protocol == "unknown":
        notes.append("published protocol unknown")
    elif entry.protocol != protocol_base(cell.ours.protocol):
        return Comparison(cell, Status.NOT_COMPARABLE, entry.value_percent,
                          reason=f"protocol differs: published {entry.protocol}, ours {cell.ours.protocol}")
    if entry.annotation_version is None:
        notes.append("published annotation version unknown")
    elif entry.annotation_version != cell.ours.annotation_version:
        return Comparison(cell, Status.NOT_COMPARABLE, entry.value_percent,
                          reason=f"annotation version differs: published {entry.annotation_version}, "
                                 f"ours {cell.ours.annotation_version}")
    return _judge(cell, entry.value_percent, published_tolerance(tolerances, entry), notes)


def _compare_ours(cell: Cell, tolerances: Tolerances) -> Comparison:
    pinned = cell.pinned
    if pinned is None:
        return Comparison(cell, Status.NA, reason="no pinned result in reference_results/ours")
    stats: MetricStats | None = pinned.metrics.get(cell.metric)
    if stats is None:
        return Comparison(cell, Status.NA, reason=f"pinned result has no {cell.metric}")
    if cell.ours is None:
        return Comparison(cell, Status.NA, stats.mean, reason="no re-run")
    for what, mine, theirs in (
        ("data", cell.ours.data, pinned.data),
        ("protocol", cell.ours.protocol, pinned.protocol),
        ("annotation version", cell.ours.annotation_version, pinned.annotation_version),
    ):
        if mine != theirs:
            return Comparison(cell, Status.NOT_COMPARABLE, stats.mean,
                              reason=f"{what} differs: re-run {mine}, pinned {theirs}")
    tolerance = ours_tolerance(tolerances, cell.benchmark, stats)
    if tolerance is None:
        return Comparison(cell, Status.NA, stats.mean, cell.ours.value - stats.mean,
                          reason="no tolerance yet: pinned result has one seed and min_abs is not measured")
    return _judge(cell, stats.mean, tolerance, [])


def _compare_oracle(cell: Cell, tolerances: Tolerances) -> Comparison:
    if cell.official is None or cell.ours is None:
        return Comparison(cell, Status.NA, cell.official, reason="missing official or avu value")
    return _judge(cell, float(cell.official), oracle_tolerance(tolerances, cell.benchmark), [])


_BY_TIER = {"published": _compare_published, "ours": _compare_ours, "oracle": _compare_oracle}


def compare(cell: Cell, tolerances: Tolerances) -> Comparison:
    """The status of ``cell`` under its tier's tolerance (see the module docstring)."""
    if cell.tier not in _BY_TIER:
        raise ValueError(f"unknown tier {cell.tier!r}; known: {sorted(_BY_TIER)}")
    return _BY_TIER[cell.tier](cell, tolerances)


def measurements(results: Mapping[tuple[str, str], OursResult], benchmark: str, configuration: str,
                 metric: str) -> Measurement | None:
    """Our measurement of one metric from results keyed by (benchmark, configuration)."""
    result = results.get((benchmark, configuration))
    return None if result is None else Measurement.from_ours(result, metric)
