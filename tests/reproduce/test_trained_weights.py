"""The reproducer starts a run that changes only after-training settings (decoding, per-task
statistics) from the trained weights of a finished run of the same training, leaves that run
as it was, and trains anew when anything of the training differs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from avu import BENCHMARK_IDS
from avu.reproduce import plan
from avu.reproduce.runner import Settings, compose_config, config_hash, execute, run_dir_for, trained_weights

SMOKE = ("train=smoke", "train.threads=1")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def finished(tiny_suite: Path, tmp_path_factory):
    spec = plan.runs_for(["joint"], list(BENCHMARK_IDS), [0])[0]
    settings = Settings(None, tiny_suite, "tiny", tmp_path_factory.mktemp("runs"), SMOKE)
    return spec, settings, execute(spec, settings, progress=False)


def test_a_decoding_change_starts_from_the_trained_weights(finished) -> None:
    spec, settings, first = finished
    donor = first.run_dir / "checkpoints" / "last.pt"
    before = _digest(donor)
    decoded = Settings(None, settings.suite, "tiny", settings.runs_dir, (*SMOKE, "model.decode.llp_global=tokens"))
    again = execute(spec, decoded, progress=False)
    assert first.weights_from is None
    assert again.run_dir != first.run_dir and again.weights_from == first.run_dir
    assert again.doc["run"]["resumed_from_step"] == first.doc["run"]["steps"]  # no training step taken
    assert _digest(donor) == before  # the finished run is left as it was
    weights = torch.load(again.run_dir / "checkpoints" / "last.pt", weights_only=False)["model"]
    trained = torch.load(donor, weights_only=False)["model"]
    assert weights.keys() == trained.keys() and all(torch.equal(weights[k], trained[k]) for k in trained)


@pytest.mark.parametrize("change", ["train.lr=0.5", "another seed"])
def test_a_training_change_finds_no_trained_weights(finished, change: str) -> None:
    spec, settings, _ = finished
    if change == "another seed":
        spec = plan.runs_for(["joint"], list(BENCHMARK_IDS), [1])[0]
        other = settings
    else:
        other = Settings(None, settings.suite, "tiny", settings.runs_dir, (*SMOKE, change))
    cfg = compose_config(spec, other)
    assert trained_weights(spec, other, cfg, run_dir_for(spec, other, config_hash(cfg))) is None
