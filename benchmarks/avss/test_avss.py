"""The avss benchmark: oracle parity and invariance (shared with tests/), tiny-suite and real-data runs."""

import pytest

from benchmarks._suite import check_real_data_run, check_tiny_run_matches_pinned
from tests.evaluators.test_avsbench_golden import gold, test_avss, test_avss_golden_padding_frames_are_background  # noqa: F401
from tests.evaluators.test_avsbench_invariance import test_batch_size_and_order_invariance, test_process_count_invariance  # noqa: F401,E501
from tests.evaluators.test_avsbench_oracle import test_avss_matches_official_loop  # noqa: F401

BENCHMARK = "avss"
pytestmark = pytest.mark.avss


def test_tiny_suite_training_matches_pinned(tiny_joint_run):
    check_tiny_run_matches_pinned(BENCHMARK, tiny_joint_run)


def test_real_data_run(data_root, tmp_path):
    check_real_data_run(BENCHMARK, data_root, tmp_path)
