"""Render filled tables as markdown, LaTeX and JSON (deterministic: no timestamps, fixed order).

Comparison tables have the columns
benchmark | metric | published (<method>) | ours | delta | tolerance | status,
followed by numbered source notes for the published numbers and the reason of every
status that has one. Ablation tables show one column per configuration, each with its
difference to the baseline configuration (and a 95% interval when the caller gives one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from avu.markdown import markdown_table
from avu.results import catalog
from avu.results.compare import Comparison, Measurement, Status
from avu.results.load import AblationTable, ComparisonTable, OursResult, PublishedEntry

DASH = "—"
COLUMNS = ("benchmark", "metric", "published", "ours", "delta", "tolerance", "status")

Interval = tuple[float, float]


def format_ours(m: Measurement | None) -> str:
    if m is None:
        return DASH
    text = f"{m.value:.2f}"
    if m.std is not None:
        text += f" ± {m.std:.2f}"
    if m.data == "generated":
        text += " (generated)"
    return text


def _published_text(entry: PublishedEntry | None) -> str:
    return DASH if entry is None else entry.display()


def _delta_text(c: Comparison) -> str:
    if c.delta is None or c.status in (Status.GENERATED, Status.NOT_COMPARABLE):
        return DASH
    return f"{c.delta:+.2f}"


def _tolerance_text(c: Comparison) -> str:
    if c.tolerance is None:
        return DASH
    if c.tolerance.tier == "oracle":
        return f"±{c.tolerance.value:g}"
    return f"±{c.tolerance.value:.2f}"


@dataclass(frozen=True)
class _Prepared:
    cells: list[list[str]]
    sources: list[str]  # numbered source notes
    reasons: list[str]


def _prepare(comparisons: Sequence[Comparison]) -> _Prepared:
    cells, sources, reasons = [], [], []
    seen: dict[str, int] = {}
    for c in comparisons:
        cell = c.cell
        entry = cell.published
        published = _published_text(entry)
        if entry is not None:
            key = f"{entry.benchmark}/{entry.id}"
            if key not in seen:
                seen[key] = len(seen) + 1
                extra = f"; {'; '.join(entry.notes)}" if entry.notes else ""
                printed = f" (printed '{entry.value}' on a 0-1 scale)" if entry.scale == "fraction" else ""
                sources.append(
                    f"[{seen[key]}] {entry.method}, {catalog.TITLES[entry.benchmark]} {entry.metric_label} "
                    f"{entry.value_percent:g}{printed}: {entry.source_key} = {entry.source_text} "
                    f"({entry.confidence}){extra}"
                )
            published += f" [{seen[key]}]"
        metric = catalog.metric_label(cell.benchmark, cell.metric)
        cells.append([
            catalog.TITLES[cell.benchmark], metric, published, format_ours(cell.ours),
            _delta_text(c), _tolerance_text(c), c.status.value,
        ])
        if c.reason and c.status not in (Status.NA, Status.GENERATED):  # those speak for themselves
            reasons.append(f"{catalog.TITLES[cell.benchmark]} {metric}: {c.status.value}: {c.reason}")
    return _Prepared(cells, sources, reasons)


def _header(table: ComparisonTable) -> list[str]:
    return ["benchmark", "metric", f"published ({table.published_method})", "ours", "delta", "tolerance", "status"]


def _seeds_text(comparisons: Sequence[Comparison]) -> str:
    """What "ours" is, as the cells show it: one seed (no ± shown) or mean ± std over n seeds."""
    counts = sorted({c.cell.ours.n_seeds for c in comparisons if c.cell.ours is not None})
    if not counts:
        return "no result of ours yet"
    if counts == [1]:
        return "one seed (no std)"
    seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return f"mean ± std over {seeds} seeds" + (" (a cell without ± has one seed)" if 1 in counts else "")


def render_markdown(table: ComparisonTable, comparisons: Sequence[Comparison]) -> str:
    """The filled comparison table as GitHub markdown."""
    p = _prepare(comparisons)
    legend = (
        f"ours: configuration `{table.configuration}`; values in percent, {_seeds_text(comparisons)}. "
        "Status: pass/fail within/outside the tolerance; n/a: nothing to compare (no run or no published "
        "number); generated: not comparable: our number is from the generated suite, never compared with "
        "a published one."
    )
    parts = [f"## {table.title}", "", table.description.strip(), "", legend, "",
             markdown_table(_header(table), p.cells)]
    if p.sources:
        parts += ["", "Sources:", ""] + [f"- {s}" for s in p.sources]
    if p.reasons:
        parts += ["", "Status notes:", ""] + [f"- {r}" for r in p.reasons]
    return "\n".join(parts) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "±": r"$\pm$", "—": "---", "Δ": r"$\Delta$",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _latex_tabular(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> list[str]:
    lines = [rf"\begin{{tabular}}{{{align}}}", r"\toprule", " & ".join(latex_escape(h) for h in header) + r" \\",
             r"\midrule"]
    lines += [" & ".join(latex_escape(v) for v in row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return lines


def render_latex(table: ComparisonTable, comparisons: Sequence[Comparison]) -> str:
    """The filled comparison table as a LaTeX ``table`` (booktabs), with source notes below."""
    p = _prepare(comparisons)
    lines = [r"\begin{table}[t]", r"\centering", r"\small",
             rf"\caption{{{latex_escape(table.title)}}}", rf"\label{{tab:avu-{table.name}}}"]
    lines += _latex_tabular(_header(table), p.cells, "llrrrrl")
    if p.sources or p.reasons:
        lines += [r"\par\vspace{2pt}\footnotesize"]
        lines += [latex_escape(s) + r"\\" for s in p.sources + p.reasons]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def render_json(table: ComparisonTable, comparisons: Sequence[Comparison]) -> str:
    """The filled comparison table as JSON (raw numbers, statuses, sources, reasons)."""
    doc = {
        "table": table.name,
        "kind": "comparison",
        "title": table.title,
        "published_method": table.published_method,
        "configuration": table.configuration,
        "columns": list(COLUMNS),
        "rows": [c.to_dict() for c in comparisons],
        "failed": sum(c.failed for c in comparisons),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# -- ablation ------------------------------------------------------------------------------
def ablation_grid(
    table: AblationTable,
    results: Mapping[tuple[str, str], OursResult],
    intervals: Mapping[tuple[str, str], Interval] | None = None,
) -> list[dict[str, Any]]:
    """One dict per row: benchmark, metric and per configuration mean, std, delta vs baseline, interval.

    ``results`` is keyed by (benchmark, configuration); ``intervals`` by the same key holds
    the 95% interval of (configuration - baseline), e.g. from a paired bootstrap.
    """
    grid = []
    for row in table.rows:
        base = results.get((row.benchmark, table.baseline))
        base_stats = None if base is None else base.metrics.get(row.metric)
        cells = {}
        for config in table.configurations:
            result = results.get((row.benchmark, config.id))
            stats = None if result is None else result.metrics.get(row.metric)
            cell: dict[str, Any] = {"mean": None, "std": None, "n_seeds": 0, "data": None,
                                    "delta": None, "interval": None}
            if stats is not None:
                cell.update(mean=stats.mean, std=stats.std, n_seeds=len(stats.values), data=result.data)
                if config.id != table.baseline and base_stats is not None:
                    cell["delta"] = stats.mean - base_stats.mean
                    if intervals and (row.benchmark, config.id) in intervals:
                        # (lo, hi) or (lo, hi, estimate): a pinned interval was measured on the seeds of
                        # that run, so its own estimate is the delta to show beside it
                        lo, hi, *estimate = intervals[(row.benchmark, config.id)]
                        cell["interval"] = [float(lo), float(hi)]
                        if estimate:
                            cell["delta"] = float(estimate[0])
            cells[config.id] = cell
        grid.append({"benchmark": row.benchmark, "metric": row.metric, "cells": cells})
    return grid


def _ablation_cell(cell: Mapping[str, Any]) -> str:
    if cell["mean"] is None:
        return DASH
    text = f"{cell['mean']:.2f}"
    if cell["std"] is not None:
        text += f" ± {cell['std']:.2f}"
    if cell["delta"] is not None:
        text += f" (Δ {cell['delta']:+.2f}"
        if cell["interval"] is not None:
            lo, hi = cell["interval"]
            text += f" [{lo:+.2f}, {hi:+.2f}]"
        text += ")"
    return text


def _ablation_rows(table: AblationTable, grid: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = ["benchmark", "metric"] + [c.label for c in table.configurations]
    rows = [
        [catalog.TITLES[g["benchmark"]], catalog.metric_label(g["benchmark"], g["metric"])]
        + [_ablation_cell(g["cells"][c.id]) for c in table.configurations]
        for g in grid
    ]
    return header, rows


def _data_kinds(grid: Sequence[Mapping[str, Any]]) -> str:
    kinds = sorted({c["data"] for g in grid for c in g["cells"].values() if c["data"]})
    return ", ".join(kinds) if kinds else "none yet"


def render_ablation_markdown(table: AblationTable, grid: Sequence[Mapping[str, Any]]) -> str:
    header, rows = _ablation_rows(table, grid)
    legend = [f"- **{c.label}** (`{c.id}`): {c.description}" for c in table.configurations]
    explain = (
        f"Values in percent, mean ± std over seeds; Δ = configuration − `{table.baseline}` "
        f"(95% interval in brackets when computed). Data: {_data_kinds(grid)}."
    )
    return "\n".join(
        [f"## {table.title}", "", table.description.strip(), "", explain, "",
         markdown_table(header, rows), "", "Configurations:", "", *legend]
    ) + "\n"


def render_ablation_latex(table: AblationTable, grid: Sequence[Mapping[str, Any]]) -> str:
    header, rows = _ablation_rows(table, grid)
    lines = [r"\begin{table}[t]", r"\centering", r"\small",
             rf"\caption{{{latex_escape(table.title)}}}", rf"\label{{tab:avu-{table.name}}}"]
    lines += _latex_tabular(header, rows, "ll" + "r" * len(table.configurations))
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def render_ablation_json(table: AblationTable, grid: Sequence[Mapping[str, Any]]) -> str:
    doc = {
        "table": table.name,
        "kind": "ablation",
        "title": table.title,
        "baseline": table.baseline,
        "configurations": [{"id": c.id, "label": c.label, "description": c.description} for c in table.configurations],
        "rows": list(grid),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


RENDERERS = {"md": render_markdown, "tex": render_latex, "json": render_json}
ABLATION_RENDERERS = {"md": render_ablation_markdown, "tex": render_ablation_latex, "json": render_ablation_json}
