"""Plain-text rendering of results."""

from __future__ import annotations

from tabulate import tabulate

from avu.evaluators.base import EvalResult


def format_result_table(result: EvalResult) -> str:
    rows = [[name, f"{value:.2f}"] for name, value in result.metrics.items()]
    head = (
        f"{result.benchmark} / {result.split}  protocol={result.protocol['key']}  "
        f"annotations={result.annotation_version}  samples={result.counts['evaluated']}/{result.counts['expected']}"
        + ("  PARTIAL" if result.partial else "")
    )
    return head + "\n" + tabulate(rows, headers=["metric", "value (%)"], tablefmt="github")
