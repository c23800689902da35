"""Checks every benchmark runs: train-and-evaluate on the tiny suite, and on real data.

A benchmark module sets ``BENCHMARK``, takes the shared tests of its benchmark from tests/
(`shared_tests`) and calls the checks below; the ``tiny_joint_run`` fixture (registered in
conftest.py) trains each configuration once per session and shares the run between benchmarks.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from _pytest.fixtures import FixtureFunctionDefinition

from avu.reproduce import plan
from avu.reproduce.cli import aggregate, config_drift
from avu.reproduce.runner import Settings, execute
from avu.results import ReferenceResults, check_against_pinned

_RUNS: dict[tuple, object] = {}


def _run(configuration: str, benchmarks: tuple[str, ...], settings: Settings):
    key = (configuration, benchmarks, settings)
    if key not in _RUNS:
        spec = plan.runs_for([configuration], list(benchmarks), [0])[0]
        _RUNS[key] = execute(spec, settings)
    return _RUNS[key]


@pytest.fixture(scope="session")
def tiny_joint_run(tiny_suite: Path, tmp_path_factory):
    """The CI regression configuration (joint model, tiny suite), trained once per session."""
    from avu import BENCHMARK_IDS

    settings = Settings(None, tiny_suite, "tiny", tmp_path_factory.mktemp("runs"))
    return _run("joint_tiny", tuple(BENCHMARK_IDS), settings), settings


def shared_tests(*modules: str) -> dict[str, Any]:
    """The tests and fixtures that ``modules`` define themselves, for a benchmark module's globals.

    Unlike a star import, names a module only imports are left out (so nothing is collected
    twice), and a name defined by two of the modules is an error instead of a silent override.
    """
    out: dict[str, Any] = {}
    for name in modules:
        module = importlib.import_module(name)
        for key, value in vars(module).items():
            wanted = (key.startswith("test_") and callable(value)) or isinstance(value, FixtureFunctionDefinition)
            if not wanted or getattr(value, "__module__", None) != name:
                continue
            if key in out:
                raise ValueError(f"{key} is defined in more than one of {modules}")
            out[key] = value
    return out


def check_tiny_run_matches_pinned(benchmark: str, tiny_joint_run) -> None:
    outcome, settings = tiny_joint_run
    results = {k: v for k, v in aggregate([outcome], settings).items() if k[0] == benchmark}
    refs = ReferenceResults()
    comparisons = check_against_pinned(results.values(), refs) + config_drift(results, refs)
    assert comparisons, "nothing compared"
    failed = [f"{c.cell.metric}: {c.status.value} {c.reason}" for c in comparisons if c.status.value != "pass"]
    assert not failed, f"{benchmark} tiny joint run vs pinned: {failed}"


def check_real_data_run(benchmark: str, data_root: Path, tmp_path: Path) -> None:
    """Single-task training and evaluation on the real dataset, compared as the main table does."""
    from avu.results import compare_table

    settings = Settings(data_root, data_root, "real", tmp_path / "runs")
    outcome = _run("single", (benchmark,), settings)
    results = aggregate([outcome], settings)
    refs = ReferenceResults()
    comparisons = [c for c in compare_table(refs.table("main"), refs, runs=results, data="real")
                   if c.cell.benchmark == benchmark]
    assert not [c for c in comparisons if c.failed], [c.reason for c in comparisons if c.failed]
