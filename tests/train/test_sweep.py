"""Sweep aggregation: mean +- std over seeds per group of overrides, from the jobs' results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from avu.train.sweep import AggregateSweep, aggregate


def _job(root: Path, name: str, overrides: list[str], seed: int, metrics: dict[str, dict[str, float]]) -> None:
    job = root / name
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    doc = {"run": {"seed": seed}, "results": {b: {"metrics": m} for b, m in metrics.items()}}
    (job / "results.json").write_text(json.dumps(doc))


def test_aggregate_groups_by_overrides_without_seed(tmp_path):
    values = {0: 60.0, 1: 64.0, 2: 65.0}
    for seed, v in values.items():
        _job(tmp_path, f"a{seed}", [f"seed={seed}", "ablation=none"], seed, {"ave": {"accuracy": v}})
        _job(tmp_path, f"b{seed}", [f"seed={seed}", "ablation=audio_only"], seed, {"ave": {"accuracy": v - 30}})
    summary = aggregate(tmp_path)["groups"]
    assert set(summary) == {"ablation=none", "ablation=audio_only"}
    stats = summary["ablation=none"]["metrics"]["ave/accuracy"]
    assert stats["n"] == 3 and stats["values"] == [60.0, 64.0, 65.0]
    assert stats["mean"] == pytest.approx(63.0)
    assert stats["std"] == pytest.approx(float(np.std([60, 64, 65], ddof=1)))
    assert summary["ablation=audio_only"]["metrics"]["ave/accuracy"]["mean"] == pytest.approx(33.0)
    assert sorted(summary["ablation=none"]["seeds"]) == [0, 1, 2]


def test_callback_writes_one_summary_file(tmp_path):
    _job(tmp_path, "0", ["seed=0"], 0, {"llp": {"segment_audio": 50.0}})
    _job(tmp_path, "1", ["seed=1"], 1, {"llp": {"segment_audio": 52.0}})
    AggregateSweep().on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}}))
    summary = json.loads((tmp_path / "sweep_summary.json").read_text())
    assert summary["groups"]["(defaults)"]["metrics"]["llp/segment_audio"]["mean"] == pytest.approx(51.0)
    assert "51.00 ± 1.41" in (tmp_path / "sweep_summary.md").read_text()


@pytest.mark.slow
def test_multirun_over_seeds_aggregates(tiny_root, tmp_path):
    """A real two-seed multirun with the local launcher ends with the summary file."""
    proc = subprocess.run(
        [sys.executable, "-m", "avu.train", "-m", "experiment=ave", "data=tiny", f"data.root={tiny_root}",
         "train=smoke", f"paths.runs={tmp_path}", "seed=0,1"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (path,) = (tmp_path / "multirun").glob("*/sweep_summary.json")
    summary = json.loads(path.read_text())
    (group,) = summary["groups"].values()
    assert sorted(group["seeds"]) == [0, 1] and group["metrics"]["ave/accuracy"]["n"] == 2
