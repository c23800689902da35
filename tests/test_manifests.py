"""The committed manifests of the real test splits equal what the official files give."""

from __future__ import annotations

import json

from avu.data import manifest
from tests.helpers.cli import run_cli

EXPECTED_COUNTS = {
    ("ave", "official"): 402,
    ("llp", "2024-04"): 1200,
    ("llp", "2020"): 1200,
    ("vggss", "official"): 5158,
    ("avqa", "json"): 9185,
    ("avqa", "json_update"): 9129,
}


def test_committed_manifests_match_the_official_files(datasets_dir):
    assert manifest.check(datasets_dir) == []


def test_manifest_counts_are_the_official_ones():
    for (benchmark, version), count in EXPECTED_COUNTS.items():
        m = manifest.load(benchmark, "test", version)
        assert m is not None, (benchmark, version)
        assert m["count"] == len(m["ids"]) == count
        assert all(len(h) == 64 for h in m["files"].values())


def test_evaluate_reports_the_manifest_match(datasets_dir, tmp_path):
    from avu.data.annotations.ave import load_references

    refs = load_references(datasets_dir / "ave")
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps({"benchmark": "ave", "predictions": {i: {"labels": [28] * 10} for i in refs.ids}}))
    out = tmp_path / "r.json"
    res = run_cli("evaluate", "--benchmark", "ave", "--predictions", preds, "--data-root", datasets_dir, "--output", out)
    assert res.code == 0, res.err
    doc = json.loads(out.read_text())
    assert doc["references"]["manifest"] == "official"
    assert abs(doc["metrics"]["accuracy"] - 17.79) < 0.01  # all background: the share of background segments
    assert doc["provenance"]["git"]["commit"] is None or len(doc["provenance"]["git"]["commit"]) == 40
