"""Published numbers: generated from ../shared/published, every number sourced, caveats kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from avu import BENCHMARK_IDS
from avu.results import catalog
from avu.results.import_published import build, parse_source_keys, render
from avu.results.import_published import main as import_main

from .conftest import ROOT


def test_regenerating_equals_committed_files(shared_dir: Path):
    files = build(shared_dir / "published" / "published.csv", shared_dir / "published" / "published.md")
    for benchmark, content in files.items():
        committed = (ROOT / "published" / f"{benchmark}.yaml").read_text(encoding="utf-8")
        assert render(content) == committed, f"published/{benchmark}.yaml is stale: run python -m avu.results.import_published"


def test_import_check_cli(shared_dir: Path, tmp_path: Path):
    src = shared_dir / "published"
    assert import_main(["--published", str(src), "--out", str(tmp_path), "--check"]) == 1  # nothing there yet
    assert import_main(["--published", str(src), "--out", str(tmp_path)]) == 0
    assert import_main(["--published", str(src), "--out", str(tmp_path), "--check"]) == 0
    assert import_main(["--published", str(tmp_path / "nowhere")]) == 2


def test_every_source_text_is_in_the_key_table(shared_dir: Path, refs):
    md = shared_dir / "published" / "published.md"
    keys = parse_source_keys(md.read_text(encoding="utf-8"), md)
    known = set(keys.values())
    for b in BENCHMARK_IDS:
        for e in refs.published(b).entries:
            assert e.source_key in known, (b, e.id)


def test_every_published_number_has_a_source(refs):
    count = 0
    for b in BENCHMARK_IDS:
        for e in refs.published(b).entries:
            assert e.source_key and e.source_text.strip(), (b, e.id)
            assert e.confidence in ("primary", "secondary")
            count += 1
    assert count > 500


def test_percent_values_are_computed_from_printed(refs):
    s4 = refs.published("avs_s4")
    tpavi = s4.get("tpavi-avsbench-baseline-pvt-v2-gavs-table/fscore")
    assert (tpavi.value, tpavi.scale, tpavi.value_percent, tpavi.reported_decimals) == ("0.879", "fraction", 87.9, 3)
    assert tpavi.display() == "87.9"
    assert tpavi.half_unit == pytest.approx(0.05)
    ave = refs.published("ave").get("avt/accuracy")
    assert (ave.value, ave.value_percent, ave.reported_decimals, ave.display()) == ("75.80", 75.8, 2, "75.80")


def test_av_unified_has_a_number_on_every_benchmark(refs):
    for b in BENCHMARK_IDS:
        assert refs.published(b).by_method("AV-Unified"), b


@pytest.mark.vggss
def test_vggss_caveat_is_kept(refs):
    entry = refs.published("vggss").get("av-unified/ciou_ap50")
    assert entry.value == "39.16"
    assert any(n.startswith("unconfirmed: identical to SSL-Alignment") for n in entry.notes)


@pytest.mark.llp
def test_unmapped_llp_numbers_say_why(refs):
    unmapped = [e for e in refs.published("llp").entries if e.metric is None]
    assert len(unmapped) == 10
    assert all(e.notes for e in unmapped)


def test_primary_metrics_match_catalog(refs):
    for b in BENCHMARK_IDS:
        assert refs.published(b).primary_metric == catalog.PRIMARY_METRIC[b]


@pytest.mark.parametrize("bench", BENCHMARK_IDS)
def test_catalog_matches_the_evaluator(bench):
    found = catalog.evaluator_metrics(bench)
    if found is None:
        pytest.skip(f"avu.evaluators for {bench} does not import here")
    names, primary = found
    assert set(catalog.METRICS[bench]) <= set(names)
    assert catalog.PRIMARY_METRIC[bench] == primary
