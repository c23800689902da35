"""The tolerance policy: how far apart two numbers may be in each of the three tiers.

- ``oracle``: avu's evaluator vs the official code; ``abs_tol`` per benchmark (1e-9 on
  float64 paths, 1e-6 on AVSBench's float32 paths), in the official code's units.
- ``ours``: a re-run vs our pinned result; ``max(k_std * pinned std, min_abs)`` in points.
- ``published``: our real-data result vs a paper; half a unit of the last printed decimal
  plus the benchmark's (or metric's) margin, in points.

Comparisons are inclusive: a difference equal to the tolerance passes. ``EPS`` absorbs the
binary representation of decimal numbers (78.75 - 78.7 is 0.04999999999999716).
"""

from __future__ import annotations

from dataclasses import dataclass

from avu.results.load import MetricStats, PublishedEntry, Tolerances

TIERS = ("oracle", "ours", "published")

#: slack for decimal numbers stored in binary floating point (far below any tolerance here)
EPS = 1e-9


@dataclass(frozen=True)
class Tolerance:
    tier: str
    #: the bound on abs(difference): percentage points (ours, published) or official units (oracle)
    value: float
    #: how the bound was obtained, e.g. "0.05 rounding + 1.0 margin"
    basis: str
    rationale: str

    def allows(self, delta: float) -> bool:
        """True when ``abs(delta)`` is within the tolerance (inclusive)."""
        slack = 0.0 if self.tier == "oracle" else EPS
        return abs(delta) <= self.value + slack


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def oracle_tolerance(tolerances: Tolerances, benchmark: str) -> Tolerance:
    entry = tolerances.benchmark("oracle", benchmark)
    return Tolerance("oracle", float(entry["abs_tol"]), f"{_fmt(entry['abs_tol'])} abs ({entry['unit']})",
                     entry["rationale"])


def ours_tolerance(tolerances: Tolerances, benchmark: str, pinned: MetricStats) -> Tolerance | None:
    """``max(k_std * std, min_abs)``; None when neither a seed spread nor a measured floor exists."""
    tier = tolerances.tier("ours")
    entry = tolerances.benchmark("ours", benchmark)
    k = float(tier["k_std"])
    floor = entry["min_abs"]
    if pinned.std is None and floor is None:
        return None
    spread = k * pinned.std if pinned.std is not None else 0.0
    value = max(spread, float(floor) if floor is not None else 0.0)
    parts = []
    if pinned.std is not None:
        parts.append(f"{_fmt(k)} x std {pinned.std:.4g} over {len(pinned.values)} seeds")
    if floor is not None:
        parts.append(f"floor {_fmt(floor)}")
    basis = "max(" + ", ".join(parts) + ")" if len(parts) > 1 else parts[0]
    return Tolerance("ours", value, basis, f"{tier['rationale']} {benchmark}: {entry['rationale']}")


def published_margin(tolerances: Tolerances, benchmark: str, metric: str) -> tuple[float, str]:
    """(margin in points, rationale): the metric's own margin when given, else the benchmark's."""
    entry = tolerances.benchmark("published", benchmark)
    per_metric = entry.get("metrics", {}).get(metric)
    if per_metric is not None:
        return float(per_metric["margin"]), per_metric["rationale"]
    return float(entry["margin"]), entry["rationale"]


def published_tolerance(tolerances: Tolerances, entry: PublishedEntry) -> Tolerance:
    """Half a unit of the entry's last printed decimal (in percent) plus the margin."""
    if entry.metric is None:
        raise ValueError(f"{entry.benchmark}/{entry.id} matches no avu metric and cannot be compared")
    margin, why = published_margin(tolerances, entry.benchmark, entry.metric)
    rounding = entry.half_unit
    basis = f"{_fmt(rounding)} rounding of '{entry.value}' + {_fmt(margin)} margin"
    return Tolerance("published", rounding + margin, basis, why)
