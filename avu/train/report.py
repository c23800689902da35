"""Plain-text summary of a run's results (primary metric of every benchmark)."""

from __future__ import annotations

from typing import Any, Mapping

from tabulate import tabulate


def summary_table(doc: Mapping[str, Any]) -> str:
    rows = []
    for bench, res in (doc.get("results") or {}).items():
        primary = res["primary_metric"]
        rows.append([bench, primary, f"{res['metrics'][primary]:.2f}", res["annotation_version"], res["split"]])
    run = doc.get("run") or {}
    secs = run.get("seconds") or {}
    head = f"run {run.get('name')} seed {run.get('seed')}: {run.get('steps')} steps, train {secs.get('train')} s, total {secs.get('total')} s"
    return head + "\n" + tabulate(rows, headers=["benchmark", "metric", "value (%)", "annotations", "split"])
