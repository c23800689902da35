"""The tables keyed by benchmark are checked against BENCHMARK_IDS by code that survives
``python -O`` (which strips asserts)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from avu import BENCHMARK_IDS
from avu.benchmarks import check_ids


def test_the_tables_list_every_benchmark_in_order() -> None:
    check_ids(BENCHMARK_IDS, "ids")
    check_ids({b: None for b in BENCHMARK_IDS}, "a mapping")
    with pytest.raises(RuntimeError, match="^a table lists .* not the benchmarks"):
        check_ids(reversed(BENCHMARK_IDS), "a table")
    with pytest.raises(RuntimeError, match="^a table lists"):
        check_ids(BENCHMARK_IDS[:-1], "a table")


def test_the_check_runs_under_python_O() -> None:
    code = "from avu.benchmarks import check_ids; check_ids(('ave', 'llp'), 'registry')"
    proc = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "RuntimeError: registry lists" in proc.stderr
