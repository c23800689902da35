"""Prediction files and result files on the tiny generated suite, written once per session.

Three fake-but-valid "models" per benchmark: the suite's oracle, prior and chance predictions
(`avu.data.synth.baselines`), written in the documented formats and scored with ``avu evaluate``.
A report folder made of them (runs.json -> results.json -> prediction files) stands in for a
reproducer run of all seven benchmarks.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np
import pytest

from avu import BENCHMARK_IDS
from avu.benchmarks import dataset_dir, get_spec
from tests.helpers.cli import run_cli
from tests.helpers.predictions import write_payload

KINDS = ("oracle", "prior", "chance")


@contextlib.contextmanager
def one_torch_thread():
    """The AVSS kernel's torch ops on single frames: two threads on two busy cores are 8x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    with one_torch_thread():
        yield


@pytest.fixture(scope="session")
def scored(tiny_suite: Path, tmp_path_factory) -> dict[str, dict[str, Path]]:
    """{benchmark: {kind: result file}} (``avu evaluate --output``) for the oracle, prior and chance predictions."""
    from avu.data.synth.baselines import predictions

    folder = tmp_path_factory.mktemp("explore_inputs")
    out: dict[str, dict[str, Path]] = {}
    with one_torch_thread():
        for b in BENCHMARK_IDS:
            out[b] = _score(b, tiny_suite, folder, predictions)
    return out


def _score(b: str, tiny_suite: Path, folder: Path, predictions) -> dict[str, Path]:
    """Oracle, prior and chance predictions of one benchmark, written and scored with ``avu evaluate``."""
    spec = get_spec(b)
    refs = spec.load_references(dataset_dir(tiny_suite, b), split="test", version=spec.default_annotation_version)
    train = spec.load_references(dataset_dir(tiny_suite, b), split="train", version=spec.default_annotation_version)
    out = {}
    for kind in KINDS:
        payload = predictions(b, kind, refs, train, np.random.default_rng(0))
        suffix = ".json" if b == "avqa" else ".npz"
        pred = write_payload(folder / "predictions" / f"{b}-{kind}{suffix}", b, list(refs.ids), payload)
        result = folder / "results" / f"{b}-{kind}.json"
        run = run_cli("evaluate", "--benchmark", b, "--predictions", pred, "--data-root", tiny_suite,
                      "--output", result)
        assert run.code == 0, run.err
        out[kind] = result
    return out


@pytest.fixture(scope="session")
def report_folder(scored, tiny_suite: Path, tmp_path_factory) -> Path:
    """A report folder whose run is the prior predictions of all seven benchmarks."""
    base = tmp_path_factory.mktemp("explore_report")
    run_dir = base / "runs" / "joint" / "seed0"
    run_dir.mkdir(parents=True)
    results = {b: json.loads(scored[b]["prior"].read_text()) for b in BENCHMARK_IDS}
    (run_dir / "results.json").write_text(json.dumps({"run": {"name": "prior"}, "results": results}))
    # paths relative to the checkout, as the reproducer records them (runs/..., data/...)
    (base / "data").mkdir()
    (base / "data" / "tiny").symlink_to(tiny_suite)
    (run_dir / "config.yaml").write_text("data:\n  root: data/tiny\n")
    folder = base / "reports" / "main"
    folder.mkdir(parents=True)
    runs = [{"configuration": "joint", "seed": 0, "run_dir": "runs/joint/seed0",
         "metrics": {b: r["metrics"] for b, r in results.items()}}]
    (folder / "runs.json").write_text(json.dumps(runs))
    return folder
