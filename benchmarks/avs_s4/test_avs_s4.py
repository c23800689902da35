"""The avs_s4 benchmark: oracle parity and invariance (shared with tests/), tiny-suite and real-data runs."""

import pytest

from benchmarks._suite import check_real_data_run, check_tiny_run_matches_pinned
from tests.evaluators.test_avsbench_golden import gold, s4ms3, test_edge_cases, test_s4ms3_single_batch_and_per_frame, test_s4ms3_test_loop  # noqa: F401
from tests.evaluators.test_avsbench_invariance import test_batch_size_and_order_invariance, test_process_count_invariance  # noqa: F401,E501
from tests.evaluators.test_avsbench_oracle import test_protocols_match_official_loops, test_threshold_lookup_is_exact  # noqa: F401

BENCHMARK = "avs_s4"
pytestmark = pytest.mark.avs_s4


def test_tiny_suite_training_matches_pinned(tiny_joint_run):
    check_tiny_run_matches_pinned(BENCHMARK, tiny_joint_run)


def test_real_data_run(data_root, tmp_path):
    check_real_data_run(BENCHMARK, data_root, tmp_path)
