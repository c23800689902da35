"""The at-prior flag: a clear margin is 2 points or a tenth of the room up to the oracle."""

from __future__ import annotations

from avu.reproduce import reference_points as R

POINTS = {"oracle": {"miou": 100.0, "acc": 60.0}, "prior": {"miou": 1.3, "acc": 50.0}, "chance": {"miou": 0.0}}


def test_margin_is_the_larger_of_two_points_and_a_tenth_of_the_room():
    assert R.margin(1.3, 100.0) == 0.1 * (100.0 - 1.3)
    assert R.margin(50.0, 60.0) == 2.0


def test_flag():
    assert R.at_prior(1.34, POINTS, "miou") is True  # the AVSS case: the all-background prior
    assert R.at_prior(1.3 + 9.86, POINTS, "miou") is True
    assert R.at_prior(1.3 + 9.88, POINTS, "miou") is False
    assert R.at_prior(51.9, POINTS, "acc") is True and R.at_prior(52.1, POINTS, "acc") is False
    assert R.at_prior(10.0, POINTS, "fscore") is None  # no reference point for this metric


def test_markdown_names_the_flag_and_skips_unknown_metrics():
    text = R.markdown([("avss", "miou", 1.34), ("avss", "fscore", 1.5)], {"avss": POINTS})
    lines = [ln for ln in text.splitlines() if ln.startswith("| avss")]
    assert len(lines) == 1 and "AT PRIOR" in lines[0] and "| 1.34 | 100.00 | 1.30 | 0.00 |" in lines[0]
