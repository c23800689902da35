"""Reference results: published numbers, our pinned results, tolerances, tables and their rendering.

The API the reproducer builds on (docs/results.md has the file formats)::

    from avu.results import ReferenceResults, OursResult, compare_table, check_against_pinned, render

    refs = ReferenceResults()                       # reference_results/ of the checkout
    table = refs.table("main")                      # main | ablation | avqa | llp
    run = OursResult.from_seed_runs("ave", "joint", {0: {"accuracy": 71.2}, 1: {...}},
                                    protocol="ave_argmax.v1", annotation_version="generated",
                                    provenance={"commit": ..., "dirty": False, "config_hash": ...,
                                                "data_manifest_hash": ..., "device": "cpu", "data": "generated"})
    comparisons = compare_table(table, refs, runs={("ave", "joint"): run})
    print(render.render_markdown(table, comparisons))
    regressions = check_against_pinned([run], refs)  # tier "ours"
    exit_code = 1 if any_failed(comparisons + regressions) else 0
    refs.save_ours(run)                              # pin it (ours/ave/joint.generated.json)
"""

from avu.results import render
from avu.results.compare import Cell, Comparison, Measurement, Status, compare
from avu.results.load import (
    AblationTable,
    ComparisonTable,
    MetricStats,
    OursResult,
    PublishedEntry,
    PublishedSet,
    ReferenceResults,
    Tolerances,
)
from avu.results.tables import any_failed, check_against_pinned, compare_table
from avu.results.tolerance import (
    Tolerance,
    oracle_tolerance,
    ours_tolerance,
    published_tolerance,
)

__all__ = [
    "AblationTable", "Cell", "Comparison", "ComparisonTable", "Measurement", "MetricStats", "OursResult",
    "PublishedEntry", "PublishedSet", "ReferenceResults", "Status", "Tolerance", "Tolerances", "any_failed",
    "check_against_pinned", "compare", "compare_table", "oracle_tolerance", "ours_tolerance",
    "published_tolerance", "render",
]
