"""``avu explore``: what the site holds, side by side, and one-line errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from avu import BENCHMARK_IDS
from tests.helpers.cli import run_cli


def read_data(path: Path):
    """The payload of a data page (``AVU.put(key, payload);``)."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("AVU.put(") and text.rstrip().endswith(");")
    key, _, rest = text[len("AVU.put("):].partition(", ")
    return json.loads(key), json.loads(rest.rstrip().removesuffix(");"))


def index_of(site: Path, benchmark: str) -> dict:
    key, payload = read_data(site / "explore" / "data" / benchmark / "index.js")
    assert key == f"index/{benchmark}"
    return payload


@pytest.fixture(scope="module")
def pair_site(scored, tiny_suite, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pair") / "site"
    run = run_cli("explore", "--result", scored["vggss"]["prior"], "--result", scored["vggss"]["chance"],
                  "--label", "prior", "--label", "chance", "--data-root", tiny_suite, "--out", out, "--workers", "2")
    assert run.code == 0, run.err
    return out


def test_side_by_side_rows_hold_both_runs_and_their_results(pair_site, scored):
    meta = index_of(pair_site, "vggss")
    assert [r["label"] for r in meta["runs"]] == ["prior", "chance"]
    for r, kind in zip(meta["runs"], ("prior", "chance")):
        assert r["metrics"] == json.loads(scored["vggss"][kind].read_text())["metrics"]
    assert meta["count"] == len(meta["rows"]) == 8
    assert all(len(row["m"]) == 2 and len(row["ok"]) == 2 for row in meta["rows"])
    for k in range(2):  # the per-sample hits add up to the result's success rate
        hits = sum(row["ok"][k] for row in meta["rows"]) / len(meta["rows"]) * 100
        assert hits == pytest.approx(meta["runs"][k]["metrics"]["ciou_ap50"], abs=1e-9)


def test_every_picture_the_data_names_exists_at_its_fixed_size(pair_site):
    from PIL import Image

    meta = index_of(pair_site, "vggss")
    _, details = read_data(pair_site / "explore" / "data" / "vggss" / "d0.js")
    for row in meta["rows"]:
        with Image.open(pair_site / row["thumb"]) as img:
            assert img.size == (96, 96)
        for run in details[str(row["i"])]["img"]["runs"]:
            for name in ("heat", "mask"):
                with Image.open(pair_site / run[name]) as img:
                    assert img.size == (224, 224)


def test_the_page_is_self_contained(pair_site):
    html = (pair_site / "index.html").read_text()
    assert "http://" not in html and "https://" not in html  # no CDN, nothing from the network
    assert 'src="explore/app.js"' in html
    assert "http" not in (pair_site / "explore" / "app.js").read_text().replace("hashchange", "")


def test_report_folder_site_has_every_benchmark(report_folder, tmp_path):
    out = tmp_path / "site"
    run = run_cli("explore", report_folder, "--out", out, "--workers", "1")
    assert run.code == 0, run.err
    for b in BENCHMARK_IDS:
        meta = index_of(out, b)
        assert meta["count"] == len(meta["rows"]) > 0


def test_a_result_the_predictions_do_not_reproduce_is_refused(scored, tiny_suite, tmp_path):
    doc = json.loads(scored["ave"]["prior"].read_text())
    doc["metrics"]["accuracy"] += 1.0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    run = run_cli("explore", "--result", bad, "--data-root", tiny_suite, "--out", tmp_path / "site")
    assert run.code == 2
    assert run.err.count("\n") == 1 and str(bad) in run.err and "metrics.accuracy" in run.err
    assert not (tmp_path / "site").exists()


def test_results_of_two_benchmarks_are_refused(scored, tiny_suite, tmp_path):
    run = run_cli("explore", "--result", scored["ave"]["prior"], "--result", scored["llp"]["prior"],
                  "--data-root", tiny_suite, "--out", tmp_path / "site")
    assert run.code == 2 and "benchmark" in run.err and str(scored["llp"]["prior"]) in run.err


def test_other_annotations_are_refused(scored, tiny_suite, tmp_path):
    doc = json.loads(scored["avqa"]["prior"].read_text())
    doc["manifest_hash"] = "0" * 64
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps(doc))
    run = run_cli("explore", "--result", bad, "--data-root", tiny_suite, "--out", tmp_path / "site")
    assert run.code == 2 and "manifest_hash" in run.err and str(bad) in run.err


def test_an_output_over_an_input_is_refused(scored, tiny_suite, tmp_path):
    site = tmp_path / "site"
    (site / "explore").mkdir(parents=True)
    inside = site / "explore" / "r.json"
    inside.write_text(scored["ave"]["prior"].read_text())
    run = run_cli("explore", "--result", inside, "--data-root", tiny_suite, "--out", site)
    assert run.code == 2 and str(inside) in run.err
    assert inside.read_text() == scored["ave"]["prior"].read_text()


def test_not_a_report_folder(tmp_path):
    run = run_cli("explore", tmp_path)
    assert run.code == 2 and str(tmp_path) in run.err


def test_an_unreadable_frame_is_named(scored, suite_copy, tmp_path):
    root = suite_copy("vggss")
    first_test = (root / "vggss" / "vggss_test.csv").read_text().split()[0].split(",")[0]
    frame = root / "vggss" / "frames" / f"{first_test}.jpg"
    frame.write_bytes(b"not a jpeg")
    run = run_cli("explore", "--result", scored["vggss"]["prior"], "--data-root", root, "--out", tmp_path / "site")
    assert run.code == 2 and str(frame) in run.err and run.err.count("\n") == 1
    assert not (tmp_path / "site" / "explore").exists()  # nothing half-written
