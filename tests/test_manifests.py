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
    states = {(e.benchmark, e.version): state for e, state in manifest.check(datasets_dir)}
    assert {k for k, state in states.items() if state == manifest.MATCHED} == set(EXPECTED_COUNTS)
    # the shared folder holds AVSBench's class index only, no split files
    assert {k for k, state in states.items() if state == manifest.MISSING} == {
        (b, "official") for b in ("avs_s4", "avs_ms3", "avss")}


def test_check_reports_each_benchmark(golden_datasets_dir, tmp_path):
    run = run_cli("manifest", "check", "--datasets", golden_datasets_dir)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert "vggss test official: matched" in lines and "avqa test json_update: matched" in lines
    assert any(line.startswith("ave test official: missing (") for line in lines)
    assert lines[-1] == "5 matched, 4 missing"

    # one changed box: the folder no longer matches what the committed manifest pinned
    folder = tmp_path / "vggss"
    folder.mkdir()
    (folder / "vggss_test.csv").write_bytes((golden_datasets_dir / "vggss" / "vggss_test.csv").read_bytes())
    entries = json.loads((golden_datasets_dir / "vggss" / "vggss.json").read_text())
    entries[0]["bbox"][0][0] += 0.01
    (folder / "vggss.json").write_text(json.dumps(entries))
    run = run_cli("manifest", "check", "--datasets", tmp_path)
    assert run.code == 1
    assert any(line.startswith("vggss test official: changed (vs ") for line in run.out.splitlines())


def test_check_of_an_empty_folder_fails(tmp_path):
    run = run_cli("manifest", "check", "--datasets", tmp_path)
    assert run.code == 2 and run.out == ""
    assert run.err.strip().splitlines() == [f"avu: error: {tmp_path}: no benchmark's annotation files found; nothing was checked"]
    run = run_cli("manifest", "check", "--datasets", tmp_path / "absent")
    assert run.code == 2 and run.err.strip() == f"avu: error: {tmp_path / 'absent'}: not a folder"


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
