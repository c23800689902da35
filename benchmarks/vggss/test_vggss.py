"""The vggss benchmark: oracle parity and invariance (shared with tests/), tiny-suite and real-data runs."""

import pytest

from tests.evaluators.test_vggss import *  # noqa: F401,F403  (tests and their fixtures)
from tests.evaluators.test_vggss_invariance import *  # noqa: F401,F403  (tests and their fixtures)
from benchmarks._suite import tiny_joint_run  # noqa: F401  (fixture)
from benchmarks._suite import check_real_data_run, check_tiny_run_matches_pinned

BENCHMARK = "vggss"
pytestmark = pytest.mark.vggss  # replaces the imported modules' marks


def test_tiny_suite_training_matches_pinned(tiny_joint_run):
    check_tiny_run_matches_pinned(BENCHMARK, tiny_joint_run)


def test_real_data_run(data_root, tmp_path):
    check_real_data_run(BENCHMARK, data_root, tmp_path)
