"""The vggss benchmark: oracle parity and invariance (shared with tests/), tiny-suite and real-data runs."""

import pytest

from benchmarks._suite import check_real_data_run, check_tiny_run_matches_pinned, shared_tests

BENCHMARK = "vggss"
pytestmark = pytest.mark.vggss  # replaces the shared modules' marks
# the vggss tests of tests/ and their fixtures, collected here under the benchmark's marker
globals().update(shared_tests("tests.evaluators.test_vggss", "tests.evaluators.test_vggss_invariance"))


def test_tiny_suite_training_matches_pinned(tiny_joint_run):
    check_tiny_run_matches_pinned(BENCHMARK, tiny_joint_run)


def test_real_data_run(data_root, tmp_path):
    check_real_data_run(BENCHMARK, data_root, tmp_path)
