"""Rendering filled tables to markdown, LaTeX and JSON."""

from __future__ import annotations

import json

import pytest

from avu.results import render
from avu.results.compare import Status
from avu.results.load import OursResult
from avu.results.tables import any_failed, check_against_pinned, compare_table

from .conftest import PROVENANCE


def run(benchmark, metrics_by_seed, data="real", configuration="joint", protocol="p.v1", version="official"):
    return OursResult.from_seed_runs(benchmark, configuration, metrics_by_seed, protocol=protocol,
                                     annotation_version=version, provenance={**PROVENANCE, "data": data})


@pytest.fixture
def main_filled(refs):
    table = refs.table("main")
    runs = {
        ("ave", "joint"): run("ave", {0: {"accuracy": 78.0}, 1: {"accuracy": 79.0}}, protocol="ave_argmax.v1"),
        ("vggss", "joint"): run("vggss", {0: {"ciou_ap50": 30.0, "auc": 31.0}}, data="generated"),
        ("avs_ms3", "joint"): run("avs_ms3", {0: {"miou": 50.0, "fscore": 60.0}}, protocol="avsbench_v1.v1"),
    }
    return table, compare_table(table, refs, runs)


def test_statuses_of_the_main_table(main_filled):
    table, comps = main_filled
    by_row = {(c.cell.benchmark, c.cell.metric): c for c in comps}
    assert len(comps) == len(table.rows)
    assert by_row[("ave", "accuracy")].status is Status.PASS
    assert by_row[("vggss", "ciou_ap50")].status is Status.GENERATED
    assert by_row[("avs_ms3", "miou")].status is Status.FAIL  # 50.0 vs 59.5
    assert by_row[("avs_ms3", "fscore")].status is Status.NA  # AV-Unified published none
    assert by_row[("llp", "segment_audio")].status is Status.NA  # not run
    assert any_failed(comps)


def test_markdown(main_filled):
    table, comps = main_filled
    md = render.render_markdown(table, comps)
    lines = md.splitlines()
    header = next(line for line in lines if line.startswith("| benchmark"))
    assert header == "| benchmark | metric | published (AV-Unified) | ours | delta | tolerance | status |"
    ave = next(line for line in lines if line.startswith("| AVE"))
    assert ave == "| AVE (test) | Acc | 78.7 [1] | 78.50 ± 0.71 | -0.20 | ±1.05 | pass |"
    vggss = next(line for line in lines if line.startswith("| VGG-SS (test) | cIoU"))
    assert "30.00 (generated)" in vggss and vggss.endswith("| — | — | generated: not comparable |")
    assert "[3] AV-Unified, VGG-SS (test) cIoU 39.16: WIZ_AVU" in md and "unconfirmed" in md
    assert md == render.render_markdown(table, comps)  # deterministic


def test_latex_escapes_and_structure(main_filled):
    table, comps = main_filled
    tex = render.render_latex(table, comps)
    assert tex.count(r"\begin{tabular}{llrrrrl}") == 1 and r"\bottomrule" in tex
    assert r"78.50 $\pm$ 0.71" in tex and r"WIZ\_AVU" in tex
    assert render.latex_escape("a_b & 50% #1 {x}") == r"a\_b \& 50\% \#1 \{x\}"


def test_json_round_trip(main_filled):
    table, comps = main_filled
    doc = json.loads(render.render_json(table, comps))
    assert doc["table"] == "main" and doc["failed"] == 1
    ave = doc["rows"][0]
    assert ave["status"] == "pass" and ave["published"]["source"]["key"] == "WIZ_AVU"
    assert ave["ours"]["value"] == 78.5 and ave["tolerance"]["value"] == pytest.approx(1.05)


def test_check_mode_uses_pinned_results(refs, ref_copy):
    from avu.results.load import ReferenceResults

    copy = ReferenceResults(ref_copy)
    copy.save_ours(run("ave", {0: {"accuracy": 10.0}}, data="generated", protocol="ave_argmax.v1"))
    comps = compare_table(copy.table("main"), copy, runs=None, data="generated")
    assert comps[0].status is Status.GENERATED and comps[0].cell.ours.value == 10.0


def test_regression_against_pinned(ref_copy):
    from avu.results.load import ReferenceResults

    copy = ReferenceResults(ref_copy)
    seeds = {0: {"accuracy": 70.0}, 1: {"accuracy": 71.0}, 2: {"accuracy": 72.0}}
    copy.save_ours(run("ave", seeds, data="generated", protocol="ave_argmax.v1"))
    same = run("ave", seeds, data="generated", protocol="ave_argmax.v1")
    drifted = run("ave", {0: {"accuracy": 80.0}}, data="generated", protocol="ave_argmax.v1")
    assert [c.status for c in check_against_pinned([same], copy)] == [Status.PASS]
    assert [c.status for c in check_against_pinned([drifted], copy)] == [Status.FAIL]
    # a configuration nobody pinned (the repository pins joint and joint_tiny)
    unpinned = run("llp", {0: {"segment_audio": 1.0}}, data="generated", protocol="avvp_official.v1",
                   configuration="never_pinned")
    assert [c.status for c in check_against_pinned([unpinned], copy)] == [Status.NA]


def test_ablation_grid_and_renderers(refs):
    table = refs.table("ablation")
    results = {
        ("ave", "joint"): run("ave", {0: {"accuracy": 70.0}, 1: {"accuracy": 72.0}}, data="generated"),
        ("ave", "single"): run("ave", {0: {"accuracy": 68.0}, 1: {"accuracy": 69.0}}, data="generated",
                               configuration="single"),
    }
    grid = render.ablation_grid(table, results, intervals={("ave", "single"): (-3.1, -0.9)})
    ave = grid[0]["cells"]
    assert ave["joint"]["mean"] == 71.0 and ave["joint"]["delta"] is None
    assert ave["single"]["delta"] == pytest.approx(-2.5) and ave["single"]["interval"] == [-3.1, -0.9]
    md = render.render_ablation_markdown(table, grid)
    assert "| AVE (test) | Acc | 71.00 ± 1.41 | 68.50 ± 0.71 (Δ -2.50 [-3.10, -0.90]) | — |" in md
    assert "Data: generated." in md
    assert r"$\Delta$ -2.50" in render.render_ablation_latex(table, grid)
    assert json.loads(render.render_ablation_json(table, grid))["rows"][0]["cells"]["single"]["n_seeds"] == 2
