"""CI's regression check: the joint model trained briefly on the tiny generated suite must
reproduce its pinned result (reference_results/ours/*/joint_tiny.generated.json) within the
"ours" tolerance tier, with the same config and data hashes. A changed evaluator, model or
training default, or generator fails here until the pinned result is refreshed with
``python -m avu.reproduce --table regression --seeds 0,1 --pin``."""

from __future__ import annotations

import json

from avu.reproduce.cli import main
from avu.results import ReferenceResults


def test_every_regression_row_is_pinned():
    refs = ReferenceResults()
    table = refs.table("regression")
    missing = [r.benchmark for r in table.rows if refs.ours(r.benchmark, table.configuration, "generated") is None]
    assert not missing, f"no pinned joint_tiny result for {missing}"


def test_tiny_joint_run_reproduces_the_pinned_result(tiny_suite, tmp_path):
    out = tmp_path / "out"
    code = main(["--table", "regression", "--suite", str(tiny_suite), "--runs-dir", str(tmp_path / "runs"),
                 "--out", str(out), "--seeds", "0", "--no-figures"])
    rows = json.loads((out / "regression" / "regression.json").read_text())["rows"]
    statuses = {(r["benchmark"], r["metric"]): r["status"] for r in rows}
    assert set(statuses.values()) == {"pass"}, statuses
    assert code == 0
