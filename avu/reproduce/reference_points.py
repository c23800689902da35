"""Oracle, prior and chance on the generated suite, beside every generated-suite number.

A number on the generated suite means little alone: the suite's oracle (the ground truth
as prediction), prior (what the training split predicts without looking at the clip) and
chance (uniform random) say where it sits. A result that does not beat the prior by a
clear margin is flagged, in the report and on the explorer page:
``value < prior + max(MARGIN_POINTS, MARGIN_SHARE * (oracle - prior))``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from avu import fileio

KINDS = ("oracle", "prior", "chance")
#: a clear margin: 2 points, or a tenth of the room between the prior and the oracle if larger
MARGIN_POINTS = 2.0
MARGIN_SHARE = 0.1
FILE = "baselines.json"
RULE = (f"flagged when ours < prior + max({MARGIN_POINTS:g} points, {MARGIN_SHARE:g} x (oracle - prior)): "
        "not beating the prior by a clear margin")


def compute(benchmarks: list[str], root: Path) -> dict[str, dict[str, dict[str, float]]]:
    """{benchmark: {kind: {metric: percent}}} on the test split of the suite at ``root``."""
    import torch

    from avu.data.synth.baselines import evaluate

    out = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the AVSS kernel's per-frame torch ops only contend with more threads
    try:
        for b in benchmarks:
            res = evaluate(b, root)
            out[b] = {kind: {k: float(v) for k, v in res[kind].items() if k != "primary"} for kind in KINDS}
    finally:
        torch.set_num_threads(threads)
    return out


def margin(prior: float, oracle: float) -> float:
    return max(MARGIN_POINTS, MARGIN_SHARE * (oracle - prior))


def at_prior(value: float, points: Mapping[str, Mapping[str, float]], metric: str) -> bool | None:
    """True when ``value`` does not beat the prior of ``metric`` by a clear margin (None: unknown)."""
    prior = points.get("prior", {}).get(metric)
    oracle = points.get("oracle", {}).get(metric)
    if prior is None or oracle is None:
        return None
    return value < prior + margin(prior, oracle)


def write(path: Path, points: Mapping[str, Any], root: Path) -> Path:
    fileio.write_json(path, {"suite": str(root), "rule": RULE,
                             "benchmarks": dict(points)})
    return path


def markdown(rows: list[tuple[str, str, float]], points: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    """``rows`` = (benchmark, metric, ours); one line each with oracle, prior, chance and the flag."""
    from avu.markdown import markdown_table

    lines = []
    for b, metric, value in rows:
        p = points.get(b)
        if p is None or metric not in p.get("prior", {}):
            continue
        flag = at_prior(value, p, metric)
        lines.append([b, metric, f"{value:.2f}", *(f"{p[k][metric]:.2f}" for k in KINDS),
                      "AT PRIOR: does not beat the prior by a clear margin" if flag else ""])
    if not lines:
        return "No oracle / prior / chance for these numbers."
    legend = ("Generated suite, test split. oracle: the ground truth as prediction; prior: from the training split "
              f"alone, without looking at the clip; chance: uniform random; {RULE}.")
    return legend + "\n\n" + markdown_table(["benchmark", "metric", "ours", *KINDS, "flag"], lines)
