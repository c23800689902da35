"""The benchmark suite: ``pytest benchmarks -m ave`` (one marker per benchmark id).

Each folder holds one benchmark's checks: oracle parity with the official code (the golden
cases), batch/process invariance, a train-and-evaluate run on the tiny generated suite
compared with its pinned result (tier "ours"), and a real-data run when ``--data-root`` (or
``AVU_DATA_ROOT``) is given. Selecting a marker that is not a benchmark id is an error.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from avu import BENCHMARK_IDS
from benchmarks._suite import tiny_joint_run  # noqa: F401  (fixture shared by every benchmark)
from tests.conftest import (  # noqa: F401  (fixtures)
    datasets_dir, golden_datasets_dir, golden_dir, shared_dir, suite_copy, tiny_suite,
)

_KEYWORDS = {"and", "or", "not"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--data-root", default=os.environ.get("AVU_DATA_ROOT"),
                     help="real datasets (ave/, avvp/, vggss/, avsbench/, music_avqa/) for the real-data runs")


def pytest_configure(config: pytest.Config) -> None:
    """``-m`` may only name registered markers: a typo must not silently select nothing."""
    expr = config.getoption("markexpr") or ""
    registered = {line.split(":")[0].strip() for line in config.getini("markers")}
    unknown = sorted({w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr)} - _KEYWORDS - registered)
    if unknown:
        raise pytest.UsageError(f"unknown marker(s) in -m: {', '.join(unknown)}; benchmarks: {', '.join(BENCHMARK_IDS)}")


@pytest.fixture(scope="session")
def data_root(request: pytest.FixtureRequest) -> Path:
    value = request.config.getoption("--data-root")
    if not value:
        pytest.skip("real-data run: give --data-root DIR (or set AVU_DATA_ROOT) with the official datasets")
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"--data-root {path} is not a folder")
    return path
