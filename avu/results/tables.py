"""Fill a table definition with comparisons: our runs against published and pinned numbers.

The reproducer calls `compare_table` with the runs it just made (or none, to show and
check the pinned results), and `check_against_pinned` for the regression check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from avu.results.compare import Cell, Comparison, Measurement, Status, compare
from avu.results.load import ComparisonTable, OursResult, ReferenceResults

RunKey = tuple[str, str]  # (benchmark, configuration)


def _published_entry(refs: ReferenceResults, benchmark: str, entry_id: str | None):
    return None if entry_id is None else refs.published(benchmark).get(entry_id)


def compare_table(
    table: ComparisonTable,
    refs: ReferenceResults,
    runs: Mapping[RunKey, OursResult] | None = None,
    data: str = "generated",
) -> list[Comparison]:
    """One comparison per row of ``table``.

    ``runs``: fresh results keyed by (benchmark, configuration). When ``runs`` is None the
    pinned results of kind ``data`` stand in for them (``--check``: compare without running);
    rows of tier ``ours`` then show the pinned value with status n/a (nothing re-run).
    """
    out: list[Comparison] = []
    for row in table.rows:
        entry = _published_entry(refs, row.benchmark, row.published)
        if runs is None:
            result = refs.ours(row.benchmark, row.configuration, data)
        else:
            result = runs.get((row.benchmark, row.configuration))
        ours = None if result is None else Measurement.from_ours(result, row.metric)
        pinned = None
        if row.tier == "ours":
            pinned = refs.ours(row.benchmark, row.configuration, result.data if result is not None else data)
        cell = Cell(row.benchmark, row.metric, row.tier, ours, published=entry, pinned=pinned,
                    expected_failure=row.expected_failure)
        if runs is None and row.tier == "ours":
            out.append(Comparison(cell, Status.NA, reason="nothing re-run: the pinned value is shown"))
        else:
            out.append(compare(cell, refs.tolerances))
    return out


def check_against_pinned(runs: Iterable[OursResult], refs: ReferenceResults) -> list[Comparison]:
    """Tier ``ours`` for every metric of every run that has a pinned result of the same data kind.

    Runs without a pinned counterpart give one ``n/a`` comparison each (metric ``*``), so
    the caller can say what is not yet pinned.
    """
    out: list[Comparison] = []
    for run in runs:
        pinned = refs.ours(run.benchmark, run.configuration, run.data)
        if pinned is None:
            cell = Cell(run.benchmark, "*", "ours", None)
            out.append(Comparison(cell, Status.NA,
                                  reason=f"not pinned: no {refs.ours_path(run.benchmark, run.configuration, run.data)}"))
            continue
        exact = same_platform(run, pinned) and set(run.seeds) <= set(pinned.seeds)
        for metric in run.metrics:
            cell = Cell(run.benchmark, metric, "ours", Measurement.from_ours(run, metric), pinned=pinned)
            out.append(compare_seeds_exactly(cell, run, pinned) if exact else compare(cell, refs.tolerances))
    return out


#: what must match for a re-run of a pinned seed to reproduce it bit for bit (CPU training is
#: deterministic given the seed, the library versions and the instruction set)
PLATFORM_KEYS = ("device", "platform")


def same_platform(run: OursResult, pinned: OursResult) -> bool:
    return all(run.provenance.get(k) is not None and run.provenance.get(k) == pinned.provenance.get(k)
               for k in PLATFORM_KEYS)


def compare_seeds_exactly(cell: Cell, run: OursResult, pinned: OursResult) -> Comparison:
    """Every re-run seed must equal that seed's pinned value exactly (same platform)."""
    mine = dict(zip(run.seeds, run.metrics[cell.metric].values))
    stats = pinned.metrics.get(cell.metric)
    if stats is None:
        return Comparison(cell, Status.FAIL, reason=f"the pinned result has no {cell.metric}")
    theirs = dict(zip(pinned.seeds, stats.values))
    diffs = {s: v - theirs[s] for s, v in mine.items() if v != theirs[s]}
    seeds = ",".join(str(s) for s in sorted(mine))
    if diffs:
        worst = max(diffs, key=lambda s: abs(diffs[s]))
        return Comparison(cell, Status.FAIL, reference=theirs[worst], delta=diffs[worst],
                          reason=f"seed {worst} on the pinned platform gave {mine[worst]:.4f}, pinned "
                                 f"{theirs[worst]:.4f}: not reproduced exactly")
    return Comparison(cell, Status.PASS, reference=theirs[min(mine)], delta=0.0,
                      reason=f"seed {seeds} equals the pinned value exactly (same platform)")


def any_failed(comparisons: Iterable[Comparison]) -> bool:
    """True when some comparison has status ``fail`` (the reproducer's exit status)."""
    return any(c.failed for c in comparisons)
