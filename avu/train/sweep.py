"""Aggregate a Hydra sweep: mean +- std over seeds of every metric, one file per sweep.

`AggregateSweep` is a Hydra callback (configured in avu/conf/config.yaml); at the end of a
multirun it reads each job's ``results.json``, groups jobs by their overrides without
``seed``, and writes ``sweep_summary.json`` and ``sweep_summary.md`` in the sweep folder.
``python -m avu.train.sweep DIR`` does the same for a finished sweep folder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from hydra.experimental.callback import Callback
from omegaconf import DictConfig
from tabulate import tabulate

from avu import fileio

SUMMARY = "sweep_summary"


def _overrides(job_dir: Path) -> list[str]:
    path = job_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return []
    import yaml

    return [str(o) for o in (yaml.safe_load(path.read_text()) or [])]


def _group_key(overrides: list[str]) -> str:
    kept = sorted(o for o in overrides if o.split("=", 1)[0].lstrip("+~") != "seed")
    return ",".join(kept) or "(defaults)"


def aggregate(sweep_dir: str | Path) -> dict[str, Any]:
    """Summary of every results.json under ``sweep_dir`` (mean, std with ddof=1, n, values)."""
    sweep_dir = Path(sweep_dir)
    groups: dict[str, dict[str, Any]] = {}
    for res_path in sorted(sweep_dir.rglob("results.json")):
        doc = json.loads(res_path.read_text())
        key = _group_key(_overrides(res_path.parent))
        g = groups.setdefault(key, {"jobs": [], "seeds": [], "metrics": {}})
        g["jobs"].append(str(res_path.parent.relative_to(sweep_dir)))
        g["seeds"].append((doc.get("run") or {}).get("seed"))
        for bench, res in (doc.get("results") or {}).items():
            for name, value in res["metrics"].items():
                g["metrics"].setdefault(f"{bench}/{name}", []).append(float(value))
    summary = {}
    for key, g in groups.items():
        stats = {}
        for name, values in g["metrics"].items():
            arr = np.asarray(values, dtype=np.float64)
            stats[name] = {"mean": float(arr.mean()), "std": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
                           "n": len(arr), "values": values}
        summary[key] = {"jobs": g["jobs"], "seeds": g["seeds"], "metrics": stats}
    return {"sweep_dir": str(sweep_dir), "groups": summary}


def write_summary(sweep_dir: str | Path) -> dict[str, Any]:
    sweep_dir = Path(sweep_dir)
    summary = aggregate(sweep_dir)
    fileio.write_json(sweep_dir / f"{SUMMARY}.json", summary)
    lines = [f"# Sweep summary: {sweep_dir}", ""]
    for key, g in summary["groups"].items():
        lines += [f"## {key}", "", f"seeds: {g['seeds']}", ""]
        rows = [[name, f"{s['mean']:.2f} ± {s['std']:.2f}", s["n"]] for name, s in sorted(g["metrics"].items())]
        lines += [tabulate(rows, headers=["metric", "mean ± std (%)", "n"], tablefmt="github"), ""]
    fileio.write_text(sweep_dir / f"{SUMMARY}.md", "\n".join(lines))
    return summary


class AggregateSweep(Callback):
    """Hydra callback: summarise the sweep when the multirun ends."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.is_dir():
            summary = write_summary(sweep_dir)
            print(f"avu.train: sweep summary of {sum(len(g['jobs']) for g in summary['groups'].values())} runs "
                  f"in {sweep_dir / (SUMMARY + '.md')}", flush=True)


if __name__ == "__main__":  # pragma: no cover
    if len(sys.argv) != 2:
        print("usage: python -m avu.train.sweep SWEEP_DIR", file=sys.stderr)
        raise SystemExit(2)
    write_summary(sys.argv[1])
